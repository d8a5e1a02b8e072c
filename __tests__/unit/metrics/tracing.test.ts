/**
 * createTracing on the real tracing SDK with an in-memory exporter: one request span, one child
 * per attempt, the traceparent each attempt sends upstream, and the parent taken from the
 * client's traceparent.
 */
import { trace } from '@opentelemetry/api';
import type { Tracer } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { createTracing } from '../../../lib/metrics/tracing.js';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$/;

let exporter: InMemorySpanExporter;
let provider: BasicTracerProvider;
let tracer: Tracer;
beforeEach(() => {
  exporter = new InMemorySpanExporter();
  provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  tracer = provider.getTracer('express-llm-proxy-test');
});
afterEach(() => provider.shutdown());

const byKind = (spans: ReadableSpan[], kind: number) => spans.filter((s) => s.kind === kind);
const SERVER = 1;
const CLIENT = 2;

describe('createTracing', () => {
  test('a request with a failed attempt and a failover: three spans, children of the request, each attempt its own traceparent', () => {
    const tracing = createTracing({ tracer });
    const request = tracing.startRequest({ api: 'chat', model: 'gpt-4o', stream: true });
    const first = request.attempt({ provider: 'a' });
    first.end(503);
    const second = request.attempt({ provider: 'b' });
    second.end(200);
    request.end(200);

    const spans = exporter.getFinishedSpans();
    expect(spans).toHaveLength(3);
    const [server] = byKind(spans, SERVER);
    const clients = byKind(spans, CLIENT);
    expect(server.name).toBe('chat gpt-4o');
    expect(server.parentSpanContext).toBeUndefined();
    expect(server.attributes).toEqual({
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': 'gpt-4o',
      'gen_ai.request.stream': true,
      'gen_ai.provider.name': 'b',
      'http.response.status_code': 200,
    });
    expect(server.status.code).toBe(0);

    expect(clients.map((s) => s.name)).toEqual(['chat gpt-4o', 'chat gpt-4o']);
    for (const client of clients) {
      expect(client.parentSpanContext?.spanId).toBe(server.spanContext().spanId);
      expect(client.spanContext().traceId).toBe(server.spanContext().traceId);
    }
    expect(clients[0].attributes).toEqual(expect.objectContaining({ 'gen_ai.provider.name': 'a', 'gen_ai.request.model': 'gpt-4o', 'http.response.status_code': 503, 'error.type': '503' }));
    expect(clients[0].status.code).toBe(2);
    expect(clients[1].attributes['gen_ai.provider.name']).toBe('b');
    expect(clients[1].attributes['error.type']).toBeUndefined();

    for (const [attempt, span] of [[first, clients[0]], [second, clients[1]]] as const) {
      const match = TRACEPARENT.exec(attempt.traceparent ?? '');
      expect(match).not.toBeNull();
      expect(match![1]).toBe(span.spanContext().traceId);
      expect(match![2]).toBe(span.spanContext().spanId);
    }
    expect(first.traceparent).not.toBe(second.traceparent);
  });

  test('the client\u2019s traceparent becomes the request span\u2019s remote parent, tracestate included', () => {
    const tracing = createTracing({ tracer });
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const request = tracing.startRequest({ api: 'messages', model: 'claude' }, { traceparent: `00-${traceId}-00f067aa0ba902b7-01`, tracestate: 'vendor=abc' });
    const attempt = request.attempt({ provider: 'anthropic' });
    expect(attempt.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    expect(attempt.tracestate).toBe('vendor=abc');
    attempt.end(200);
    request.end(200);
    const [server] = byKind(exporter.getFinishedSpans(), SERVER);
    expect(server.spanContext().traceId).toBe(traceId);
    expect(server.parentSpanContext).toEqual(expect.objectContaining({ spanId: '00f067aa0ba902b7', isRemote: true }));
  });

  test.each([['garbage'], ['00-00000000000000000000000000000000-00f067aa0ba902b7-01'], ['ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'], ['00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01']])(
    'an invalid traceparent (%s) starts a new trace',
    (traceparent) => {
      const request = createTracing({ tracer }).startRequest({ api: 'chat', model: 'm' }, { traceparent });
      request.end(200);
      const [server] = exporter.getFinishedSpans();
      expect(server.parentSpanContext).toBeUndefined();
      expect(server.spanContext().traceId).not.toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    },
  );

  test('failures: error.type and an error status; 4xx fails a client span but not the server span', () => {
    const request = createTracing({ tracer }).startRequest({ api: 'embeddings', model: 'e' });
    request.attempt({ provider: 'a' }).end(0, 'connection');
    request.attempt({ provider: 'b' }).end(400);
    request.end(400);
    const spans = exporter.getFinishedSpans();
    const [server] = byKind(spans, SERVER);
    const clients = byKind(spans, CLIENT);
    expect(server.name).toBe('embeddings e');
    expect([server.attributes['error.type'], server.status.code]).toEqual(['400', 0]);
    expect(clients.map((c) => [c.attributes['error.type'], c.attributes['http.response.status_code'], c.status.code])).toEqual([
      ['connection', undefined, 2], // no answer came: no status code
      ['400', 400, 2],
    ]);
  });

  test('a server error or an error code fails the request span; ending twice records once', () => {
    const request = createTracing({ tracer }).startRequest({ api: 'chat', model: 'm' });
    request.end(499, 'client_closed_request');
    request.end(200);
    const spans = exporter.getFinishedSpans();
    expect(spans).toHaveLength(1);
    expect(spans[0].attributes['http.response.status_code']).toBe(499);
    expect(spans[0].status).toEqual({ code: 2, message: 'client_closed_request' });
  });

  test('with a tracer that records nothing and no parent, there is no traceparent to send', () => {
    const noop = trace.getTracer('nothing-registered');
    const attempt = createTracing({ tracer: noop }).startRequest({ api: 'chat', model: 'm' }).attempt({ provider: 'a' });
    expect(attempt.traceparent).toBeUndefined();
    expect(attempt.tracestate).toBeUndefined();
  });

  test('a span started before the body names the model: the operation alone, then renamed; later attempts carry the model; usage on the request span', () => {
    const startTime = Date.now() - 1000;
    const request = createTracing({ tracer }).startRequest({ api: 'completions', startTime });
    request.setModel('gpt-x', true);
    request.attempt({ provider: 'p' }).end(200);
    request.end(200, undefined, { input_tokens: 7, output_tokens: 3 });
    const spans = exporter.getFinishedSpans();
    const [server] = byKind(spans, SERVER);
    const [client] = byKind(spans, CLIENT);
    expect(server.name).toBe('text_completion gpt-x');
    expect(server.startTime[0] * 1000 + server.startTime[1] / 1e6).toBeCloseTo(startTime, 0);
    expect(server.attributes).toMatchObject({ 'gen_ai.request.model': 'gpt-x', 'gen_ai.request.stream': true, 'gen_ai.usage.input_tokens': 7, 'gen_ai.usage.output_tokens': 3 });
    expect(client.name).toBe('text_completion gpt-x');
    expect(client.attributes).toMatchObject({ 'gen_ai.request.model': 'gpt-x', 'gen_ai.provider.name': 'p' });
  });

  test('a span whose model never came keeps the operation as its name', () => {
    createTracing({ tracer }).startRequest({ api: 'chat' }).end(400);
    const [span] = exporter.getFinishedSpans();
    expect(span.name).toBe('chat');
    expect(span.attributes['gen_ai.request.model']).toBeUndefined();
  });

  test('a missing tracer is refused, naming the option', () => {
    expect(() => createTracing({} as never)).toThrow(/`tracer` must be an OpenTelemetry Tracer/);
  });
});
