/**
 * createPrometheusMetrics on a real prom-client Registry, read back as JSON and as text: the exact
 * metrics (names, types, labels, buckets), what each call records, and registries shared or clashing.
 */
import * as promClient from 'prom-client';
import { Registry } from 'prom-client';
import { InvalidOptionError } from '../../../lib/errors/errors.js';
import { createPrometheusMetrics, LATENCY_BUCKETS, OVERHEAD_BUCKETS } from '../../../lib/metrics/prometheus.js';
import type { RequestFinishedEvent } from '../../../lib/metrics/types.js';

type Value = { value: number; labels: Record<string, string | number>; metricName?: string };

async function metric(registry: Registry, name: string): Promise<{ type: string; values: Value[] }> {
  const found = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  if (!found) throw new Error(`no metric ${name}`);
  return found as unknown as { type: string; values: Value[] };
}

/** The value of the series of `name` with exactly `labels`. */
async function value(registry: Registry, name: string, labels: Record<string, string | number>): Promise<number | undefined> {
  const { values } = await metric(registry, name);
  const hit = values.find(
    (v) =>
      (v.metricName ?? name) === name &&
      Object.keys(v.labels).length === Object.keys(labels).length &&
      Object.entries(labels).every(([k, l]) => String(v.labels[k]) === String(l)),
  );
  return hit?.value;
}

const finished: RequestFinishedEvent = {
  api: 'chat',
  provider: 'openai',
  model: 'gpt-4o',
  status: 200,
  stream: true,
  durationS: 2.5,
  ttftS: 0.4,
  overheadS: 0.0003,
  usage: { input_tokens: 19, output_tokens: 10, total_tokens: 29 },
};

const EXPECTED: Array<[string, string, string[]]> = [
  ['llm_proxy_requests_total', 'counter', ['api', 'provider', 'model', 'status']],
  ['llm_proxy_request_duration_seconds', 'histogram', ['api', 'provider', 'model', 'stream']],
  ['llm_proxy_time_to_first_token_seconds', 'histogram', ['api', 'provider', 'model']],
  ['llm_proxy_overhead_seconds', 'histogram', ['api']],
  ['llm_proxy_tokens_total', 'counter', ['api', 'provider', 'model', 'type']],
  ['llm_proxy_upstream_errors_total', 'counter', ['provider', 'model', 'kind']],
  ['llm_proxy_failovers_total', 'counter', ['from_provider', 'model']],
  ['llm_proxy_active_streams', 'gauge', ['api']],
  ['llm_proxy_client_disconnects_total', 'counter', ['api']],
  ['llm_proxy_circuit_state', 'gauge', ['provider', 'model', 'state']],
  ['llm_proxy_provider_health', 'gauge', ['provider', 'model']],
];

describe('createPrometheusMetrics', () => {
  test('registers exactly the eleven metrics, in the given registry only, with no default metrics', async () => {
    const registry = new Registry();
    const globalBefore = (await promClient.register.getMetricsAsJSON()).map((m) => m.name);
    createPrometheusMetrics({ registry });
    const registered = registry.getMetricsAsArray() as unknown as Array<{ name: string; type: string; labelNames: string[] }>;
    expect(registered.map((m) => [m.name, m.type, m.labelNames])).toEqual(EXPECTED);
    // The lib's prom-client is the test's, so the global-registry check below means something.
    expect(registry.getSingleMetric('llm_proxy_requests_total')).toBeInstanceOf(promClient.Counter);
    expect((await promClient.register.getMetricsAsJSON()).map((m) => m.name)).toEqual(globalBefore);
  });

  test('latency histograms reach minutes, the overhead one starts below a millisecond', () => {
    const registry = new Registry();
    createPrometheusMetrics({ registry });
    const bounds = (name: string) => (registry.getSingleMetric(name) as unknown as { upperBounds: number[] }).upperBounds;
    expect(bounds('llm_proxy_request_duration_seconds')).toEqual(LATENCY_BUCKETS);
    expect(bounds('llm_proxy_time_to_first_token_seconds')).toEqual(LATENCY_BUCKETS);
    expect(bounds('llm_proxy_overhead_seconds')).toEqual(OVERHEAD_BUCKETS);
    expect(Math.max(...LATENCY_BUCKETS)).toBeGreaterThanOrEqual(300);
    expect(Math.min(...OVERHEAD_BUCKETS)).toBeLessThan(0.001);
    expect(Math.max(...OVERHEAD_BUCKETS)).toBe(1);
  });

  test('requestFinished: a count, the duration, TTFT for streams, overhead and tokens', async () => {
    const registry = new Registry();
    const metrics = createPrometheusMetrics({ registry });
    metrics.requestFinished(finished);
    metrics.requestFinished({ ...finished, status: 502, stream: false, ttftS: 0.1, usage: undefined, overheadS: undefined, error: 'upstream_error' });
    metrics.requestFinished({ api: 'embeddings', provider: 'none', model: 'unknown', status: 404, stream: false, durationS: 0.001 });

    const base = { api: 'chat', provider: 'openai', model: 'gpt-4o' };
    expect(await value(registry, 'llm_proxy_requests_total', { ...base, status: '200' })).toBe(1);
    expect(await value(registry, 'llm_proxy_requests_total', { ...base, status: '502' })).toBe(1);
    expect(await value(registry, 'llm_proxy_requests_total', { api: 'embeddings', provider: 'none', model: 'unknown', status: '404' })).toBe(1);

    const duration = await metric(registry, 'llm_proxy_request_duration_seconds');
    const sum = (stream: string) =>
      duration.values.find((v) => v.metricName === 'llm_proxy_request_duration_seconds_sum' && v.labels.stream === stream && v.labels.api === 'chat')?.value;
    expect(sum('true')).toBe(2.5);
    expect(sum('false')).toBe(2.5);
    const le = (bound: number) =>
      duration.values.find((v) => v.metricName === 'llm_proxy_request_duration_seconds_bucket' && v.labels.stream === 'true' && v.labels.le === bound)?.value;
    expect([le(2), le(3)]).toEqual([0, 1]);

    const ttft = await metric(registry, 'llm_proxy_time_to_first_token_seconds');
    const ttftCounts = ttft.values.filter((v) => v.metricName === 'llm_proxy_time_to_first_token_seconds_count');
    expect(ttftCounts).toEqual([expect.objectContaining({ value: 1, labels: base })]); // the non-stream request adds none

    const overhead = await metric(registry, 'llm_proxy_overhead_seconds');
    const overheadCounts = overhead.values.filter((v) => v.metricName === 'llm_proxy_overhead_seconds_count');
    expect(overheadCounts).toEqual([expect.objectContaining({ value: 1, labels: { api: 'chat' } })]);

    expect(await value(registry, 'llm_proxy_tokens_total', { ...base, type: 'input' })).toBe(19);
    expect(await value(registry, 'llm_proxy_tokens_total', { ...base, type: 'output' })).toBe(10);
  });

  test('errors, failovers, streams, disconnects and health', async () => {
    const registry = new Registry();
    const metrics = createPrometheusMetrics({ registry });
    metrics.upstreamError({ provider: 'a', model: 'm', kind: 'timeout' });
    metrics.upstreamError({ provider: 'a', model: 'm', kind: 'timeout' });
    metrics.upstreamError({ provider: 'a', model: 'm', kind: 'status_503' });
    metrics.failover({ fromProvider: 'a', model: 'm' });
    metrics.streamStarted('chat');
    metrics.streamStarted('chat');
    metrics.streamEnded('chat');
    metrics.streamStarted('messages');
    metrics.clientDisconnected('chat');
    metrics.providerHealth('a', 'm', false);
    metrics.providerHealth('b', 'm', true);

    expect(await value(registry, 'llm_proxy_upstream_errors_total', { provider: 'a', model: 'm', kind: 'timeout' })).toBe(2);
    expect(await value(registry, 'llm_proxy_upstream_errors_total', { provider: 'a', model: 'm', kind: 'status_503' })).toBe(1);
    expect(await value(registry, 'llm_proxy_failovers_total', { from_provider: 'a', model: 'm' })).toBe(1);
    expect(await value(registry, 'llm_proxy_active_streams', { api: 'chat' })).toBe(1);
    expect(await value(registry, 'llm_proxy_active_streams', { api: 'messages' })).toBe(1);
    expect(await value(registry, 'llm_proxy_client_disconnects_total', { api: 'chat' })).toBe(1);
    expect(await value(registry, 'llm_proxy_provider_health', { provider: 'a', model: 'm' })).toBe(0);
    expect(await value(registry, 'llm_proxy_provider_health', { provider: 'b', model: 'm' })).toBe(1);
  });

  test('circuit state is one-hot over closed, open and half_open', async () => {
    const registry = new Registry();
    const metrics = createPrometheusMetrics({ registry });
    const states = async () => Promise.all(['closed', 'open', 'half_open'].map((state) => value(registry, 'llm_proxy_circuit_state', { provider: 'a', model: 'm', state })));
    metrics.circuitState('a', 'm', 'open');
    expect(await states()).toEqual([0, 1, 0]);
    metrics.circuitState('a', 'm', 'half_open');
    expect(await states()).toEqual([0, 0, 1]);
    metrics.circuitState('a', 'm', 'closed');
    expect(await states()).toEqual([1, 0, 0]);
  });

  test('the text exposition carries the series', async () => {
    const registry = new Registry();
    createPrometheusMetrics({ registry }).requestFinished(finished);
    const text = await registry.metrics();
    expect(text).toContain('# TYPE llm_proxy_requests_total counter');
    expect(text).toContain('llm_proxy_requests_total{api="chat",provider="openai",model="gpt-4o",status="200"} 1');
    expect(text).toContain('llm_proxy_request_duration_seconds_bucket{le="600",api="chat",provider="openai",model="gpt-4o",stream="true"} 1');
  });

  test('a second recorder on the same registry reuses the metrics: both add to the same series', async () => {
    const registry = new Registry();
    const first = createPrometheusMetrics({ registry });
    const second = createPrometheusMetrics({ registry });
    first.requestFinished(finished);
    second.requestFinished(finished);
    expect(registry.getMetricsAsArray()).toHaveLength(11);
    expect(await value(registry, 'llm_proxy_requests_total', { api: 'chat', provider: 'openai', model: 'gpt-4o', status: '200' })).toBe(2);
  });

  test('a metric of the same name that is not ours is a clear error', () => {
    const registry = new Registry();
    new promClient.Counter({ name: 'llm_proxy_failovers_total', help: 'theirs', labelNames: ['provider'], registers: [registry] });
    const make = () => createPrometheusMetrics({ registry });
    expect(make).toThrow(InvalidOptionError);
    expect(make).toThrow(/`registry` already has a metric named llm_proxy_failovers_total/);
  });

  test('a histogram of ours with other buckets is refused too', () => {
    const registry = new Registry();
    new promClient.Histogram({ name: 'llm_proxy_overhead_seconds', help: 'x', labelNames: ['api'], buckets: [1, 2], registers: [registry] });
    expect(() => createPrometheusMetrics({ registry })).toThrow(/llm_proxy_overhead_seconds/);
  });

  test.each([[undefined], [{}], [{ registry: {} }]])('%j is refused, naming registry', (options) => {
    expect(() => createPrometheusMetrics(options as never)).toThrow(/`registry` must be a prom-client Registry/);
  });
});
