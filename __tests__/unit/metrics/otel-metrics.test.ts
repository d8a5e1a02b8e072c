/**
 * createOtelMetrics on the real OpenTelemetry metrics SDK: a MeterProvider with a reader the test
 * collects from. Checks the GenAI instruments, their units and advised buckets, the attributes and
 * the derived time per output token.
 */
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import type { HistogramMetricData } from '@opentelemetry/sdk-metrics';
import { createOtelMetrics } from '../../../lib/metrics/otel-metrics.js';
import type { RequestFinishedEvent } from '../../../lib/metrics/types.js';

class CollectingReader extends MetricReader {
  protected async onShutdown(): Promise<void> {}
  protected async onForceFlush(): Promise<void> {}
}

async function setUp() {
  const reader = new CollectingReader();
  const provider = new MeterProvider({ readers: [reader] });
  const metrics = createOtelMetrics({ meter: provider.getMeter('express-llm-proxy-test') });
  const collect = async (): Promise<Map<string, HistogramMetricData>> => {
    const { resourceMetrics, errors } = await reader.collect();
    expect(errors).toEqual([]);
    return new Map(resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).map((m) => [m.descriptor.name, m as HistogramMetricData]));
  };
  return { metrics, collect, close: () => provider.shutdown() };
}

const stream: RequestFinishedEvent = {
  api: 'chat',
  provider: 'openai',
  model: 'gpt-4o',
  status: 200,
  stream: true,
  durationS: 2.4,
  ttftS: 0.4,
  usage: { input_tokens: 19, output_tokens: 11, total_tokens: 30 },
};

const chatAttributes = { 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4o' };

describe('createOtelMetrics', () => {
  test('a successful stream records duration, TTFT, time per output token and both token counts', async () => {
    const { metrics, collect, close } = await setUp();
    metrics.requestFinished(stream);
    const data = await collect();
    expect([...data.keys()].sort()).toEqual(['gen_ai.client.token.usage', 'gen_ai.server.request.duration', 'gen_ai.server.time_per_output_token', 'gen_ai.server.time_to_first_token']);

    const one = (name: string) => {
      const metric = data.get(name)!;
      expect(metric.dataPoints).toHaveLength(1);
      return { descriptor: metric.descriptor, point: metric.dataPoints[0] };
    };
    const duration = one('gen_ai.server.request.duration');
    expect(duration.descriptor.unit).toBe('s');
    expect(duration.point.attributes).toEqual(chatAttributes);
    expect(duration.point.value.sum).toBe(2.4);
    expect(duration.point.value.buckets.boundaries).toEqual([0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92]);

    const ttft = one('gen_ai.server.time_to_first_token');
    expect(ttft.descriptor.unit).toBe('s');
    expect(ttft.point.value.sum).toBe(0.4);
    expect(ttft.point.value.buckets.boundaries).toEqual([0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0]);

    const tpot = one('gen_ai.server.time_per_output_token');
    expect(tpot.point.value.sum).toBeCloseTo((2.4 - 0.4) / 10, 12);
    expect(tpot.point.value.buckets.boundaries).toEqual([0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5]);

    const tokens = data.get('gen_ai.client.token.usage')!;
    expect(tokens.descriptor.unit).toBe('{token}');
    expect(tokens.dataPoints.map((p) => [p.attributes, p.value.sum]).sort()).toEqual([
      [{ ...chatAttributes, 'gen_ai.token.type': 'input' }, 19],
      [{ ...chatAttributes, 'gen_ai.token.type': 'output' }, 11],
    ].sort());
    expect(tokens.dataPoints[0].value.buckets.boundaries).toEqual([1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864]);
    await close();
  });

  test('a failed request: duration with error.type, no TTFT nor time per token', async () => {
    const { metrics, collect, close } = await setUp();
    metrics.requestFinished({ ...stream, status: 504, error: 'upstream_timeout', usage: undefined });
    metrics.requestFinished({ ...stream, status: 429, usage: undefined });
    const data = await collect();
    expect(data.get('gen_ai.server.time_to_first_token')?.dataPoints ?? []).toEqual([]);
    expect(data.get('gen_ai.server.time_per_output_token')?.dataPoints ?? []).toEqual([]);
    expect(data.get('gen_ai.server.request.duration')!.dataPoints.map((p) => p.attributes['error.type']).sort()).toEqual(['429', 'upstream_timeout']);
    await close();
  });

  test('time per output token needs a stream with at least two output tokens', async () => {
    const { metrics, collect, close } = await setUp();
    metrics.requestFinished({ ...stream, usage: { input_tokens: 5, output_tokens: 1, total_tokens: 6 } });
    metrics.requestFinished({ ...stream, stream: false, ttftS: undefined });
    metrics.requestFinished({ ...stream, usage: undefined });
    const data = await collect();
    expect(data.get('gen_ai.server.time_per_output_token')?.dataPoints ?? []).toEqual([]);
    await close();
  });

  test.each([
    ['chat', 'chat'],
    ['completions', 'text_completion'],
    ['embeddings', 'embeddings'],
    ['responses', 'chat'],
    ['messages', 'chat'],
    ['rerank', 'rerank'],
  ])('API %s is operation %s', async (api, operation) => {
    const { metrics, collect, close } = await setUp();
    metrics.requestFinished({ ...stream, api, stream: false, ttftS: undefined });
    const data = await collect();
    expect(data.get('gen_ai.server.request.duration')!.dataPoints[0].attributes['gen_ai.operation.name']).toBe(operation);
    await close();
  });

  test('embeddings record input tokens only', async () => {
    const { metrics, collect, close } = await setUp();
    metrics.requestFinished({ api: 'embeddings', provider: 'openai', model: 'text-embedding-3-small', status: 200, stream: false, durationS: 0.1, usage: { input_tokens: 8, output_tokens: 0, total_tokens: 8 } });
    const data = await collect();
    expect(data.get('gen_ai.client.token.usage')!.dataPoints.map((p) => p.attributes['gen_ai.token.type'])).toEqual(['input']);
    await close();
  });

  test('the calls without a GenAI instrument record nothing and do not throw', async () => {
    const { metrics, collect, close } = await setUp();
    metrics.upstreamError({ provider: 'a', model: 'm', kind: 'timeout' });
    metrics.failover({ fromProvider: 'a', model: 'm' });
    metrics.streamStarted('chat');
    metrics.streamEnded('chat');
    metrics.clientDisconnected('chat');
    metrics.circuitState('a', 'm', 'open');
    metrics.providerHealth('a', 'm', false);
    const data = await collect();
    expect([...data.values()].flatMap((m) => m.dataPoints)).toEqual([]);
    await close();
  });

  test('a missing meter is refused, naming the option', () => {
    expect(() => createOtelMetrics({} as never)).toThrow(/`meter` must be an OpenTelemetry Meter/);
  });
});
