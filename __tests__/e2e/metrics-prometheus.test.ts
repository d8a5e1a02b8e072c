/**
 * `metrics: { registry }` end to end: real upstreams, real clients, a real prom-client Registry
 * read back through `registry.metrics()` as Prometheus scrapes it. Request logging is off here,
 * so usage is read because the metrics want it.
 */
import * as promClient from 'prom-client';
import { Registry } from 'prom-client';
import request from 'supertest';
import { provider, trackedApps } from '../kit/app.js';
import type { Sample } from '../kit/observability.js';
import { samplesOf, scrape, valueOf } from '../kit/observability.js';
import { timedPost, waitFor } from '../kit/stream-client.js';
import { failOnUnhandledErrors } from '../kit/unhandled.js';
import type { UpstreamHandler } from '../kit/upstream.js';
import { chunkEvent, completion, okJson, refusedPort, sleep, startUpstream, useUpstream } from '../kit/upstream.js';

const upstream = useUpstream();
failOnUnhandledErrors();

// Routers and servers close after each test even when it fails half-way, so jest can exit.
const { track, tracked, serve } = trackedApps();

const PATH = '/llm/v1/chat/completions';
const chat = (extra: Record<string, unknown> = {}) => ({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }], ...extra });
const USAGE = { prompt_tokens: 12, completion_tokens: 34, total_tokens: 46 };
const LABELS = { api: 'chat', provider: 'mock', model: 'gpt-test' };

/** Answers JSON with USAGE, or a stream whose usage chunk comes only when the body asks, as OpenAI does. */
const openAiLike: UpstreamHandler = (_req, res, seen) => {
  const body = seen.json ?? {};
  if (body.stream !== true) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ...completion('upstream-gpt'), usage: USAGE }));
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  res.write(chunkEvent('upstream-gpt', 'Hel'));
  res.write(chunkEvent('upstream-gpt', 'lo', 'stop'));
  if ((body.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true) {
    res.write(`data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', choices: [], usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } })}\n\n`);
  }
  res.end('data: [DONE]\n\n');
};

/** Scrapes until the request's own counter shows up (the metrics are recorded just after the response ends). */
async function scrapeAfter(registry: Registry, labels: Record<string, string>, count = 1): Promise<Sample[]> {
  for (let tries = 0; tries < 300; tries++) {
    const samples = await scrape(registry);
    if ((valueOf(samples, 'llm_proxy_requests_total', labels) ?? 0) >= count) return samples;
    await sleep(10);
  }
  throw new Error(`no llm_proxy_requests_total ${JSON.stringify(labels)} in ${await registry.metrics()}`);
}

function setUp(options: Record<string, unknown> = {}, providers = [provider(upstream.baseUrl)]) {
  const registry = new Registry();
  const built = tracked({ providers, logRequests: false, heartbeatMs: 0, metrics: { registry }, ...options });
  return { registry, ...built };
}

describe('Prometheus metrics', () => {
  beforeEach(() => upstream.setHandler(openAiLike));

  it('a JSON answer: the request, its duration and overhead, and the tokens the upstream reported', async () => {
    const { app, router, registry } = setUp();
    await request(app).post(PATH).send(chat()).expect(200);
    const samples = await scrapeAfter(registry, { ...LABELS, status: '200' });
    expect(valueOf(samples, 'llm_proxy_tokens_total', { ...LABELS, type: 'input' })).toBe(12);
    expect(valueOf(samples, 'llm_proxy_tokens_total', { ...LABELS, type: 'output' })).toBe(34);
    expect(valueOf(samples, 'llm_proxy_request_duration_seconds_count', { ...LABELS, stream: 'false' })).toBe(1);
    expect(valueOf(samples, 'llm_proxy_overhead_seconds_count', { api: 'chat' })).toBe(1);
    expect(valueOf(samples, 'llm_proxy_overhead_seconds_sum', { api: 'chat' })).toBeGreaterThan(0);
    expect(samplesOf(samples, 'llm_proxy_time_to_first_token_seconds_count')).toEqual([]);
    expect(samplesOf(samples, 'llm_proxy_upstream_errors_total')).toEqual([]);
    await router.close();
  });

  it('a stream: TTFT, duration until its end, its usage chunk, and no stream left active', async () => {
    const { app, router, registry } = setUp();
    const server = await serve(app);
    await timedPost(server.url + PATH, chat({ stream: true, stream_options: { include_usage: true } })).done;
    const samples = await scrapeAfter(registry, { ...LABELS, status: '200' });
    expect(valueOf(samples, 'llm_proxy_time_to_first_token_seconds_count', LABELS)).toBe(1);
    expect(valueOf(samples, 'llm_proxy_request_duration_seconds_count', { ...LABELS, stream: 'true' })).toBe(1);
    expect(valueOf(samples, 'llm_proxy_tokens_total', { ...LABELS, type: 'input' })).toBe(3);
    expect(valueOf(samples, 'llm_proxy_tokens_total', { ...LABELS, type: 'output' })).toBe(2);
    expect(valueOf(samples, 'llm_proxy_active_streams', { api: 'chat' })).toBe(0);
    await server.close();
    await router.close();
  });

  it('counts a stream as active while it runs', async () => {
    let release = (): void => {};
    upstream.setHandler((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(chunkEvent('upstream-gpt', 'Hel'));
      release = () => res.end('data: [DONE]\n\n');
    });
    const { app, router, registry } = setUp();
    const server = await serve(app);
    const client = timedPost(server.url + PATH, chat({ stream: true }));
    await waitFor(() => client.reads.length > 0, 3000, 'the first event');
    expect(valueOf(await scrape(registry), 'llm_proxy_active_streams', { api: 'chat' })).toBe(1);
    release();
    await client.done;
    const samples = await scrapeAfter(registry, { ...LABELS, status: '200' });
    expect(valueOf(samples, 'llm_proxy_active_streams', { api: 'chat' })).toBe(0);
    await server.close();
    await router.close();
  });

  it('usage.includeInStreams asks the upstream for the usage chunk of a stream that did not, and counts it', async () => {
    const { app, router, registry } = setUp({ usage: { includeInStreams: true } });
    const server = await serve(app);
    const body = await timedPost(server.url + PATH, chat({ stream: true })).done;
    expect(upstream.requests[0].json?.stream_options).toEqual({ include_usage: true });
    expect(body).toContain('"prompt_tokens":3'); // the client gets the usage chunk too
    const samples = await scrapeAfter(registry, { ...LABELS, status: '200' });
    expect(valueOf(samples, 'llm_proxy_tokens_total', { ...LABELS, type: 'input' })).toBe(3);
    await server.close();
    await router.close();
  });

  it('without includeInStreams a stream that did not ask has no usage: no tokens counted, the body untouched', async () => {
    const { app, router, registry } = setUp();
    const server = await serve(app);
    const sent = JSON.stringify(chat({ stream: true }));
    await timedPost(server.url + PATH, sent).done;
    expect(upstream.requests[0].body).toBe(sent.replace('"gpt-test"', '"upstream-gpt"'));
    const samples = await scrapeAfter(registry, { ...LABELS, status: '200' });
    expect(samplesOf(samples, 'llm_proxy_tokens_total')).toEqual([]);
    await server.close();
    await router.close();
  });

  it('a failover: the first provider\u2019s error, the move, and the request under the provider that answered', async () => {
    const second = await startUpstream(openAiLike);
    track(second.close);
    upstream.setHandler((_req, res) => {
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'busy', type: 'server_error', param: null, code: null } }));
    });
    const models = { 'gpt-test': 'upstream-gpt' };
    const { app, router, registry } = setUp({}, [provider(upstream.baseUrl, { id: 1, key: 'first', models }), provider(second.baseUrl, { id: 2, key: 'second', models, weight: 0.001 })]);
    await request(app).post(PATH).send(chat()).expect(200);
    const samples = await scrapeAfter(registry, { api: 'chat', provider: 'second', model: 'gpt-test', status: '200' });
    expect(valueOf(samples, 'llm_proxy_upstream_errors_total', { provider: 'first', model: 'gpt-test', kind: 'status_503' })).toBe(1);
    expect(valueOf(samples, 'llm_proxy_failovers_total', { from_provider: 'first', model: 'gpt-test' })).toBe(1);
    expect(valueOf(samples, 'llm_proxy_tokens_total', { api: 'chat', provider: 'second', model: 'gpt-test', type: 'output' })).toBe(34);
    await router.close();
    await second.close();
  });

  it('a refused connection: a connection error, a 502, and the breaker open (one-hot)', async () => {
    const dead = `http://127.0.0.1:${await refusedPort()}/v1`;
    const { app, router, registry } = setUp({ breaker: { failureThreshold: 1, cooldownMs: 60_000 } }, [provider(dead, { key: 'dead' })]);
    await request(app).post(PATH).send(chat()).expect(502);
    const samples = await scrapeAfter(registry, { api: 'chat', provider: 'dead', model: 'gpt-test', status: '502' });
    expect(valueOf(samples, 'llm_proxy_upstream_errors_total', { provider: 'dead', model: 'gpt-test', kind: 'connection' })).toBe(1);
    expect(valueOf(samples, 'llm_proxy_circuit_state', { provider: 'dead', model: 'gpt-test', state: 'open' })).toBe(1);
    expect(valueOf(samples, 'llm_proxy_circuit_state', { provider: 'dead', model: 'gpt-test', state: 'closed' })).toBe(0);
    expect(valueOf(samples, 'llm_proxy_circuit_state', { provider: 'dead', model: 'gpt-test', state: 'half_open' })).toBe(0);
    await router.close();
  });

  it('a model no provider maps, and a refused client key: provider none, model unknown (never the client\u2019s string)', async () => {
    const { app, router, registry } = setUp({ apiKeys: ['sk-client'] });
    await request(app).post(PATH).set('authorization', 'Bearer sk-client').send(chat({ model: 'made-up-by-a-client' })).expect(404);
    await request(app).post(PATH).send(chat()).expect(401);
    const samples = await scrapeAfter(registry, { api: 'chat', provider: 'none', model: 'unknown', status: '401' });
    expect(valueOf(samples, 'llm_proxy_requests_total', { api: 'chat', provider: 'none', model: 'unknown', status: '404' })).toBe(1);
    expect((await registry.metrics()).includes('made-up-by-a-client')).toBe(false);
    await router.close();
  });

  it('a client that leaves mid-stream: a 499 and a disconnect, no upstream error', async () => {
    upstream.setHandler((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(chunkEvent('upstream-gpt', 'Hel')); // and then nothing
    });
    const { app, router, registry } = setUp();
    const server = await serve(app);
    const client = timedPost(server.url + PATH, chat({ stream: true }));
    await waitFor(() => client.reads.length > 0, 3000, 'the first event');
    client.req.destroy();
    const samples = await scrapeAfter(registry, { ...LABELS, status: '499' });
    expect(valueOf(samples, 'llm_proxy_client_disconnects_total', { api: 'chat' })).toBe(1);
    expect(valueOf(samples, 'llm_proxy_active_streams', { api: 'chat' })).toBe(0);
    expect(samplesOf(samples, 'llm_proxy_upstream_errors_total')).toEqual([]);
    await server.close();
    await router.close();
  });

  it('a stream the upstream breaks off: a stream_error', async () => {
    upstream.setHandler((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(chunkEvent('upstream-gpt', 'Hel'));
      setTimeout(() => res.socket?.destroy(), 20);
    });
    const { app, router, registry } = setUp();
    const server = await serve(app);
    await timedPost(server.url + PATH, chat({ stream: true })).done;
    const samples = await scrapeAfter(registry, { ...LABELS, status: '200' });
    expect(valueOf(samples, 'llm_proxy_upstream_errors_total', { provider: 'mock', model: 'gpt-test', kind: 'stream_error' })).toBe(1);
    await server.close();
    await router.close();
  });

  it('health results: 1 healthy, 0 unhealthy, per provider and model', async () => {
    const dead = `http://127.0.0.1:${await refusedPort()}/v1`;
    upstream.setHandler(okJson);
    const { app, router, registry } = setUp({ adminKey: 'admin-key' }, [provider(upstream.baseUrl, { id: 1, key: 'up', models: { 'gpt-test': 'upstream-gpt' } }), provider(dead, { id: 2, key: 'down', models: { 'gpt-test': 'upstream-gpt' } })]);
    await request(app).post('/llm/admin/v1/health/check').set('authorization', 'Bearer admin-key').send({}).expect(200);
    const samples = await scrape(registry);
    expect(valueOf(samples, 'llm_proxy_provider_health', { provider: 'up', model: 'gpt-test' })).toBe(1);
    expect(valueOf(samples, 'llm_proxy_provider_health', { provider: 'down', model: 'gpt-test' })).toBe(0);
    await router.close();
  });

  it('registers in the given registry only: nothing in prom-client\u2019s global one, no default metrics', async () => {
    const globalBefore = await promClient.register.metrics();
    const { app, router, registry } = setUp();
    await request(app).post(PATH).send(chat()).expect(200);
    const samples = await scrapeAfter(registry, { ...LABELS, status: '200' });
    expect(await promClient.register.metrics()).toBe(globalBefore);
    expect(samples.every((s) => s.name.startsWith('llm_proxy_'))).toBe(true);
    await router.close();
  });

  it('two routers on one registry add to the same series', async () => {
    const registry = new Registry();
    const a = tracked({ providers: [provider(upstream.baseUrl)], logRequests: false, metrics: { registry } });
    const b = tracked({ providers: [provider(upstream.baseUrl)], logRequests: false, metrics: { registry } });
    await request(a.app).post(PATH).send(chat()).expect(200);
    await request(b.app).post(PATH).send(chat()).expect(200);
    const samples = await scrapeAfter(registry, { ...LABELS, status: '200' }, 2);
    expect(valueOf(samples, 'llm_proxy_tokens_total', { ...LABELS, type: 'input' })).toBe(24);
    await a.router.close();
    await b.router.close();
  });
});
