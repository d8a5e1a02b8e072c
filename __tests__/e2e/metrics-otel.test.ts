/**
 * `metrics: { meter }` and `tracing: { tracer }` end to end, on the OpenTelemetry SDKs: a
 * MeterProvider with a reader the test collects from, and a tracer with the in-memory exporter.
 */
import request from 'supertest';
import { provider, trackedApps } from '../kit/app.js';
import { histogramPoints, memoryTracer, otelMeter } from '../kit/observability.js';
import { timedPost, waitFor } from '../kit/stream-client.js';
import { failOnUnhandledErrors } from '../kit/unhandled.js';
import type { UpstreamHandler } from '../kit/upstream.js';
import { chunkEvent, completion, refusedPort, sleep, startUpstream, useUpstream } from '../kit/upstream.js';

const upstream = useUpstream();
failOnUnhandledErrors();

// Routers and servers close after each test even when it fails half-way, so jest can exit.
const { track, tracked, serve } = trackedApps();

const PATH = '/llm/v1/chat/completions';
const chat = (extra: Record<string, unknown> = {}) => ({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }], ...extra });
const attributes = (operation: string, model = 'gpt-test', provider = 'mock') => ({ 'gen_ai.operation.name': operation, 'gen_ai.provider.name': provider, 'gen_ai.request.model': model });

const answers: UpstreamHandler = (_req, res, seen) => {
  const body = seen.json ?? {};
  if (seen.url.endsWith('/embeddings')) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ object: 'list', data: [{ object: 'embedding', index: 0, embedding: [0.1] }], model: 'upstream-embed', usage: { prompt_tokens: 7, total_tokens: 7 } }));
  } else if (body.stream === true) {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(chunkEvent('upstream-gpt', 'Hel'));
    setTimeout(() => {
      res.write(chunkEvent('upstream-gpt', 'lo', 'stop'));
      res.write(`data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', choices: [], usage: { prompt_tokens: 3, completion_tokens: 9, total_tokens: 12 } })}\n\n`);
      res.end('data: [DONE]\n\n');
    }, 20);
  } else {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ...completion('upstream-gpt'), usage: { prompt_tokens: 12, completion_tokens: 34, total_tokens: 46 } }));
  }
};

beforeEach(() => upstream.setHandler(answers));

/** Collects until `name` has `count` recordings in all. */
async function collectAfter(collect: () => ReturnType<ReturnType<typeof otelMeter>['collect']>, name = 'gen_ai.server.request.duration', count = 1) {
  for (let tries = 0; tries < 300; tries++) {
    const data = await collect();
    if (histogramPoints(data, name).reduce((n, p) => n + p.count, 0) >= count) return data;
    await sleep(10);
  }
  throw new Error(`no ${name}`);
}

describe('OpenTelemetry GenAI metrics', () => {
  it('chat answers and streams: duration, TTFT, time per output token and the reported tokens', async () => {
    const otel = otelMeter();
    const { app, router } = tracked({ providers: [provider(upstream.baseUrl)], logRequests: false, heartbeatMs: 0, metrics: { meter: otel.meter } });
    const server = await serve(app);
    await request(app).post(PATH).send(chat()).expect(200);
    await timedPost(server.url + PATH, chat({ stream: true, stream_options: { include_usage: true } })).done;
    const data = await collectAfter(otel.collect, 'gen_ai.server.request.duration', 2);
    const chatAttributes = attributes('chat');
    expect(histogramPoints(data, 'gen_ai.server.request.duration')).toEqual([{ attributes: chatAttributes, sum: expect.any(Number), count: 2 }]);
    expect(histogramPoints(data, 'gen_ai.server.time_to_first_token')).toEqual([{ attributes: chatAttributes, sum: expect.any(Number), count: 1 }]);
    const [tpot] = histogramPoints(data, 'gen_ai.server.time_per_output_token');
    expect(tpot.count).toBe(1);
    expect(tpot.sum).toBeGreaterThan(0);
    const tokens = histogramPoints(data, 'gen_ai.client.token.usage');
    expect(tokens).toEqual(
      expect.arrayContaining([
        { attributes: { ...chatAttributes, 'gen_ai.token.type': 'input' }, sum: 12 + 3, count: 2 },
        { attributes: { ...chatAttributes, 'gen_ai.token.type': 'output' }, sum: 34 + 9, count: 2 },
      ]),
    );
    expect(tokens).toHaveLength(2);
    await server.close();
    await router.close();
    await otel.close();
  });

  it('embeddings and legacy completions: their operation names; embeddings count input only', async () => {
    const otel = otelMeter();
    const { app, router } = tracked({ providers: [provider(upstream.baseUrl, { models: { 'embed-test': 'upstream-embed', 'gpt-test': 'upstream-gpt' } })], logRequests: false, metrics: { meter: otel.meter } });
    await request(app).post('/llm/v1/embeddings').send({ model: 'embed-test', input: 'hi' }).expect(200);
    await request(app).post('/llm/v1/completions').send({ model: 'gpt-test', prompt: 'hi' }).expect(200);
    const data = await collectAfter(otel.collect, 'gen_ai.server.request.duration', 2);
    const tokens = histogramPoints(data, 'gen_ai.client.token.usage');
    expect(tokens).toEqual(
      expect.arrayContaining([
        { attributes: { ...attributes('embeddings', 'embed-test'), 'gen_ai.token.type': 'input' }, sum: 7, count: 1 },
        { attributes: { ...attributes('text_completion'), 'gen_ai.token.type': 'input' }, sum: 12, count: 1 },
        { attributes: { ...attributes('text_completion'), 'gen_ai.token.type': 'output' }, sum: 34, count: 1 },
      ]),
    );
    expect(tokens).toHaveLength(3);
    await router.close();
    await otel.close();
  });

  it('a failure carries error.type', async () => {
    const otel = otelMeter();
    const dead = `http://127.0.0.1:${await refusedPort()}/v1`;
    const { app, router } = tracked({ providers: [provider(dead)], logRequests: false, metrics: { meter: otel.meter } });
    await request(app).post(PATH).send(chat()).expect(502);
    const data = await collectAfter(otel.collect);
    expect(histogramPoints(data, 'gen_ai.server.request.duration').map((p) => p.attributes)).toEqual([{ ...attributes('chat'), 'error.type': 'connection' }]);
    await router.close();
    await otel.close();
  });
});

describe('OpenTelemetry tracing', () => {
  it('one span per request, one per attempt, each attempt\u2019s traceparent sent upstream, the client\u2019s traceparent the parent', async () => {
    const traces = memoryTracer();
    const second = await startUpstream(answers);
    track(second.close);
    upstream.setHandler((_req, res) => {
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end('{"error":{"message":"busy","type":"server_error","param":null,"code":null}}');
    });
    const models = { 'gpt-test': 'upstream-gpt' };
    const { app, router } = tracked({
      providers: [provider(upstream.baseUrl, { id: 1, key: 'first', models }), provider(second.baseUrl, { id: 2, key: 'second', models, weight: 0.001 })],
      logRequests: false,
      tracing: { tracer: traces.tracer },
    });
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    await request(app).post(PATH).set('traceparent', `00-${traceId}-00f067aa0ba902b7-01`).send(chat()).expect(200);
    await waitFor(() => traces.spans().length === 3, 3000, 'three spans');
    const spans = traces.spans();
    const [server] = spans.filter((s) => s.kind === 1);
    const clients = spans.filter((s) => s.kind === 2);
    expect(server.name).toBe('chat gpt-test');
    expect(server.spanContext().traceId).toBe(traceId);
    expect(server.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
    expect(server.attributes).toMatchObject({ 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-test', 'gen_ai.provider.name': 'second', 'http.response.status_code': 200, 'gen_ai.usage.input_tokens': 12, 'gen_ai.usage.output_tokens': 34 });
    expect(clients.map((c) => [c.attributes['gen_ai.provider.name'], c.attributes['http.response.status_code']])).toEqual([
      ['first', 503],
      ['second', 200],
    ]);
    const sent = [upstream.requests[0].headers.traceparent, second.requests[0].headers.traceparent];
    expect(sent).toEqual(clients.map((c) => `00-${traceId}-${c.spanContext().spanId}-01`));
    for (const client of clients) expect(client.parentSpanContext?.spanId).toBe(server.spanContext().spanId);
    expect(server.startTime[0] * 1e3 + server.startTime[1] / 1e6).toBeLessThanOrEqual(clients[0].startTime[0] * 1e3 + clients[0].startTime[1] / 1e6);
    await router.close();
    await second.close();
    await traces.close();
  });

  it('a request refused before a provider was chosen still has its span, failed on 5xx only', async () => {
    const traces = memoryTracer();
    const { app, router } = tracked({ providers: [provider(upstream.baseUrl)], logRequests: false, tracing: { tracer: traces.tracer } });
    await request(app).post(PATH).send({ messages: [] }).expect(400);
    await request(app).post(PATH).send(chat({ model: 'nobody-serves-this' })).expect(404);
    await waitFor(() => traces.spans().length === 2, 3000, 'two spans');
    const [missing, unknown] = traces.spans();
    expect(missing.name).toBe('chat');
    expect(missing.attributes).toMatchObject({ 'http.response.status_code': 400, 'error.type': '400' });
    expect(missing.status.code).toBe(0);
    expect(unknown.name).toBe('chat nobody-serves-this');
    expect(upstream.requests).toHaveLength(0);
    await router.close();
    await traces.close();
  });
});
