/** combineMetrics: every call reaches every recorder; one that throws reaches neither the caller nor the others. */
import { combineMetrics } from '../../../lib/metrics/combine.js';
import type { ProxyMetrics } from '../../../lib/metrics/types.js';

/** A recorder that writes down every call. */
function recording(): { calls: unknown[][]; recorder: ProxyMetrics } {
  const calls: unknown[][] = [];
  const record = (method: string) => (...args: unknown[]) => void calls.push([method, ...args]);
  const recorder = {
    requestFinished: record('requestFinished'),
    upstreamError: record('upstreamError'),
    failover: record('failover'),
    streamStarted: record('streamStarted'),
    streamEnded: record('streamEnded'),
    clientDisconnected: record('clientDisconnected'),
    circuitState: record('circuitState'),
    providerHealth: record('providerHealth'),
  };
  return { calls, recorder };
}

function callEverything(metrics: ProxyMetrics): void {
  metrics.requestFinished({ api: 'chat', provider: 'a', model: 'm', status: 200, stream: false, durationS: 1 });
  metrics.upstreamError({ provider: 'a', model: 'm', kind: 'timeout' });
  metrics.failover({ fromProvider: 'a', model: 'm' });
  metrics.streamStarted('chat');
  metrics.streamEnded('chat');
  metrics.clientDisconnected('chat');
  metrics.circuitState('a', 'm', 'open');
  metrics.providerHealth('a', 'm', true);
}

test('each call goes to every recorder, with its arguments', () => {
  const one = recording();
  const two = recording();
  callEverything(combineMetrics([one.recorder, two.recorder]));
  expect(one.calls).toHaveLength(8);
  expect(two.calls).toEqual(one.calls);
  expect(one.calls[6]).toEqual(['circuitState', 'a', 'm', 'open']);
});

test('a recorder that throws is reported and skipped; the call returns and the next recorder still runs', () => {
  const broken: ProxyMetrics = { ...recording().recorder, requestFinished: () => { throw new Error('boom'); } };
  const healthy = recording();
  const errors: unknown[][] = [];
  const metrics = combineMetrics([broken, healthy.recorder], (error, method, index) => errors.push([(error as Error).message, method, index]));
  expect(() => callEverything(metrics)).not.toThrow();
  expect(healthy.calls).toHaveLength(8);
  expect(errors).toEqual([['boom', 'requestFinished', 0]]);
});

test('an error handler that throws does not reach the caller either', () => {
  const broken = { streamStarted: () => { throw new Error('boom'); } };
  const metrics = combineMetrics([broken], () => { throw new Error('handler broke'); });
  expect(() => metrics.streamStarted('chat')).not.toThrow();
});

test('by default a throwing recorder gives one process warning per method, not one per call', () => {
  const warnings: unknown[][] = [];
  const emitWarning = process.emitWarning;
  process.emitWarning = ((...args: unknown[]) => void warnings.push(args)) as typeof process.emitWarning;
  try {
    const metrics = combineMetrics([{ failover: () => { throw new Error('boom'); } }]);
    for (let i = 0; i < 5; i++) metrics.failover({ fromProvider: 'a', model: 'm' });
  } finally {
    process.emitWarning = emitWarning;
  }
  expect(warnings).toEqual([[expect.stringContaining('#0 threw in failover(): boom'), 'LlmProxyMetricsWarning']]);
});

test('recorders may implement only some methods; none at all is a no-op', () => {
  const calls: string[] = [];
  const metrics = combineMetrics([{ streamStarted: (api) => void calls.push(api) }]);
  callEverything(metrics);
  expect(calls).toEqual(['chat']);
  expect(() => callEverything(combineMetrics([]))).not.toThrow();
});

test('methods are called on their recorder (this is kept)', () => {
  class Counting {
    count = 0;
    streamStarted(): void {
      this.count++;
    }
  }
  const counting = new Counting();
  combineMetrics([counting]).streamStarted('chat');
  expect(counting.count).toBe(1);
});

test.each([[undefined], [[null]], ['x']])('%j is refused, naming metrics', (recorders) => {
  expect(() => combineMetrics(recorders as never)).toThrow(/`metrics` must be an array/);
});
