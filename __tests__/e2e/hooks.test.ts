/** `hooks` and `logFields` end to end: what each hook sees, what it can change, and hooks that fail. */
import type { Request } from 'express';
import request from 'supertest';
import type { FinishHookEntry, ProviderConfig, RequestHookEvent, ResponseHookEvent } from '../../lib/index.js';
import { provider, rawPost, trackedApps } from '../kit/app.js';
import { waitFor } from '../kit/stream-client.js';
import { failOnUnhandledErrors } from '../kit/unhandled.js';
import { chunkEvent, okJson, sleep, startUpstream, useUpstream } from '../kit/upstream.js';

const upstream = useUpstream();
failOnUnhandledErrors();

// Routers and servers close after each test even when it fails half-way, so jest can exit.
const { track, tracked, serve } = trackedApps();

const PATH = '/llm/v1/chat/completions';
const chat = (extra: Record<string, unknown> = {}) => ({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }], ...extra });
const MODELS = { 'gpt-test': 'upstream-gpt', 'embed-test': 'upstream-embed' };
const busy503 = (_req: unknown, res: import('node:http').ServerResponse) => {
  res.writeHead(503, { 'content-type': 'application/json' });
  res.end('{"error":{"message":"busy","type":"server_error","param":null,"code":null}}');
};

const errorsIn = (entries: Record<string, unknown>[]) => entries.filter((e) => e.level === 'error');

describe('hooks.onRequest', () => {
  it('sees the request, and its upstream header reaches every attempt, across a failover', async () => {
    const second = await startUpstream(okJson);
    track(second.close);
    upstream.setHandler(busy503);
    const seen: RequestHookEvent[] = [];
    const { app, router } = tracked({
      providers: [provider(upstream.baseUrl, { id: 1, key: 'first', models: MODELS }), provider(second.baseUrl, { id: 2, key: 'second', models: MODELS, weight: 0.001 })],
      apiKeys: (key) => (key === 'sk-alice' ? 'alice' : false),
      hooks: {
        onRequest(event) {
          seen.push(event);
          event.setUpstreamHeader('X-Tenant', 'acme');
        },
      },
    });
    const res = await request(app).post(PATH).set('authorization', 'Bearer sk-alice').set('x-request-id', 'req-42').send(chat({ stream: false, temperature: 0.5 })).expect(200);
    expect(res.headers['x-llm-proxy-provider']).toBe('second');
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ api: 'chat', model: 'gpt-test', stream: false, requestId: 'req-42', client: 'alice', body: chat({ stream: false, temperature: 0.5 }) });
    expect((seen[0].req as Request).headers['x-request-id']).toBe('req-42');
    expect(upstream.requests[0].headers['x-tenant']).toBe('acme');
    expect(second.requests[0].headers['x-tenant']).toBe('acme');
    await router.close();
    await second.close();
  });

  it('may be async, and may destructure its helpers', async () => {
    const { app, router } = tracked({
      providers: [provider(upstream.baseUrl)],
      hooks: {
        async onRequest({ setUpstreamHeader }) {
          await sleep(5);
          setUpstreamHeader('x-budget', '12');
        },
      },
    });
    await request(app).post(PATH).send(chat()).expect(200);
    expect(upstream.requests[0].headers['x-budget']).toBe('12');
    await router.close();
  });

  it.each([
    ['chat', PATH, chat()],
    ['completions', '/llm/v1/completions', { model: 'gpt-test', prompt: 'hi' }],
    ['embeddings', '/llm/v1/embeddings', { model: 'embed-test', input: 'hi' }],
  ])('reject() answers in the API\u2019s error shape (%s), and nothing goes upstream', async (_api, path, body) => {
    const { app, router, entries } = tracked({
      providers: [provider(upstream.baseUrl, { models: MODELS })],
      hooks: {
        async onRequest({ reject }) {
          await sleep(1);
          reject(429, 'Monthly budget exhausted');
        },
      },
    });
    const res = await request(app).post(path).send(body).expect(429);
    expect(res.body).toEqual({ error: { message: 'Monthly budget exhausted', type: 'invalid_request_error', param: null, code: 'request_rejected' } });
    expect(upstream.requests).toHaveLength(0);
    await waitFor(() => entries.length === 1, 3000, 'the log entry');
    expect(entries[0]).toMatchObject({ status: 429, level: 'warn' });
    await router.close();
  });

  // The APIs with their own error envelopes.
  const anthropic = { id: 1, key: 'claude', type: 'anthropic', apiKey: 'sk-ant', models: { 'claude-test': 'claude-upstream-1' } };
  const OTHER_APIS = [
    ['messages', '/v1/messages', { model: 'claude-test', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] }, anthropic, { type: 'error', error: { type: 'rate_limit_error', message: 'Monthly budget exhausted' } }],
    ['responses', '/v1/responses', { model: 'gpt-test', input: 'hi' }, {}, { error: { message: 'Monthly budget exhausted', type: 'invalid_request_error', param: null, code: 'request_rejected' } }],
  ] as const;
  for (const [api, path, body, overrides, expected] of OTHER_APIS) {
    it(`reject() answers in the API\u2019s error shape (${api})`, async () => {
      const { app, router } = tracked({
        providers: [{ ...provider(upstream.baseUrl, { models: MODELS }), ...overrides } as ProviderConfig],
        hooks: { onRequest: ({ reject }) => reject(429, 'Monthly budget exhausted') },
      });
      const res = await request(app).post(`/llm${path}`).set('anthropic-version', '2023-06-01').send(body).expect(429);
      expect(res.body).toEqual(expected);
      expect(upstream.requests).toHaveLength(0);
      await router.close();
    });
  }

  it.each([
    ['throws', () => {
      throw new Error('tenant lookup failed');
    }],
    ['rejects', async () => {
      await sleep(1);
      throw new Error('tenant lookup failed');
    }],
    ['calls reject() with a bad status', ({ reject }: RequestHookEvent) => reject(200, 'fine')],
    ['sets a header the proxy owns', ({ setUpstreamHeader }: RequestHookEvent) => setUpstreamHeader('content-length', '1')],
    ['returns an object whose then getter throws', () => ({
      get then(): never {
        throw new Error('tenant lookup failed');
      },
    })],
  ])('a hook that %s: 500 hook_error, the cause logged at error, nothing upstream', async (_name, onRequest) => {
    const { app, router, entries } = tracked({ providers: [provider(upstream.baseUrl)], hooks: { onRequest } });
    const res = await request(app).post(PATH).send(chat()).expect(500);
    expect(res.body.error).toMatchObject({ type: 'server_error', code: 'hook_error' });
    expect(JSON.stringify(res.body)).not.toContain('tenant lookup failed');
    expect(upstream.requests).toHaveLength(0);
    await waitFor(() => entries.some((e) => e.message === 'POST /llm/v1/chat/completions 500'), 3000, 'the request log');
    expect(errorsIn(entries).find((e) => e.message === 'hooks.onRequest threw')).toMatchObject({ error: expect.any(String), request_id: expect.any(String) });
    await router.close();
  });

  it('a hook that never settles does not hold a request whose client left, nor the router\u2019s close()', async () => {
    const { app, router, entries } = tracked({ providers: [provider(upstream.baseUrl)], hooks: { onRequest: () => new Promise<void>(() => {}) } });
    const server = await serve(app);
    const left = rawPost(server.url + PATH, chat());
    await sleep(50);
    left.destroy();
    await waitFor(() => entries.some((e) => e.status === 499), 3000, 'the 499 entry');
    const waiting = request(app).post(PATH).send(chat());
    const answered = waiting.then((r) => r);
    await sleep(50);
    await router.close({ graceMs: 20 });
    const res = await answered;
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('proxy_closed');
    expect(upstream.requests).toHaveLength(0);
    await server.close();
  });
});

describe('hooks.onResponse', () => {
  it('hears every attempt\u2019s upstream headers; one that throws is logged and changes nothing', async () => {
    const second = await startUpstream(okJson);
    track(second.close);
    upstream.setHandler(busy503);
    const heard: ResponseHookEvent[] = [];
    const { app, router, entries } = tracked({
      providers: [provider(upstream.baseUrl, { id: 1, key: 'first', models: MODELS }), provider(second.baseUrl, { id: 2, key: 'second', models: MODELS, weight: 0.001 })],
      hooks: {
        onResponse(event) {
          heard.push(event);
          throw new Error('dashboard down');
        },
      },
    });
    await request(app).post(PATH).send(chat()).expect(200);
    expect(heard.map((e) => [e.provider, e.status, e.attempt, e.model, e.api])).toEqual([
      ['first', 503, 1, 'gpt-test', 'chat'],
      ['second', 200, 2, 'gpt-test', 'chat'],
    ]);
    expect(heard[1].headers['content-type']).toBe('application/json');
    expect(errorsIn(entries).filter((e) => e.message === 'hooks.onResponse threw')).toHaveLength(2);
    await router.close();
    await second.close();
  });
});

describe('hooks.onFinish and logFields', () => {
  it('onFinish gets the log entry\u2019s fields (logFields merged in), its level and message, and the request', async () => {
    const finished: FinishHookEntry[] = [];
    const { app, router, entries } = tracked({
      providers: [provider(upstream.baseUrl)],
      logFields: (req) => ({ tenant: req.headers['x-tenant'], status: 'not the proxy\u2019s' }),
      hooks: { onFinish: (entry) => void finished.push(entry) },
    });
    await request(app).post(PATH).set('x-tenant', 'acme').send(chat()).expect(200);
    await waitFor(() => entries.length === 1 && finished.length === 1, 3000, 'the entry and the hook');
    const { req, level, message, ...fields } = finished[0];
    expect(fields).toEqual(expect.objectContaining({ tenant: 'acme', status: 200, usage: { input_tokens: 5, output_tokens: 6, total_tokens: 11 } }));
    const { level: logLevel, message: logMessage, ...logged } = Object.fromEntries(Object.entries(entries[0])); // winston's own symbols left out
    expect(fields).toEqual(logged);
    expect([level, message]).toEqual([logLevel, logMessage]);
    expect((req as Request).headers['x-tenant']).toBe('acme');
    await router.close();
  });

  it('onFinish runs for 4xx and 499 too, and with request logging off (usage still read)', async () => {
    upstream.setHandler((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(chunkEvent('upstream-gpt', 'Hel')); // and then nothing
    });
    const finished: FinishHookEntry[] = [];
    const { app, router, entries } = tracked({ providers: [provider(upstream.baseUrl)], logRequests: false, heartbeatMs: 0, hooks: { onFinish: (e) => void finished.push(e) } });
    const server = await serve(app);
    await request(app).post(PATH).send(chat({ model: 'unknown-model' })).expect(404);
    const left = rawPost(server.url + PATH, chat({ stream: true }));
    await waitFor(() => upstream.requests.length === 1, 3000, 'the upstream request');
    await sleep(30);
    left.destroy();
    await waitFor(() => finished.length === 2, 3000, 'two entries');
    expect(finished.map((e) => [e.status, e.error_kind])).toEqual([
      [404, undefined],
      [499, 'client_disconnect'],
    ]);
    expect(entries).toEqual([]);
    await server.close();
    await router.close();
  });

  it('onFinish reads usage even when nothing else wants it', async () => {
    const finished: FinishHookEntry[] = [];
    const { app, router } = tracked({ providers: [provider(upstream.baseUrl)], logRequests: false, hooks: { onFinish: (e) => void finished.push(e) } });
    await request(app).post(PATH).send(chat()).expect(200);
    await waitFor(() => finished.length === 1, 3000, 'the entry');
    expect(finished[0].usage).toEqual({ input_tokens: 5, output_tokens: 6, total_tokens: 11 });
    await router.close();
  });

  it('an onFinish that throws or rejects, and a logFields that throws, are logged at error; the entry is still written', async () => {
    let calls = 0;
    const { app, router, entries } = tracked({
      providers: [provider(upstream.baseUrl)],
      logFields: () => {
        throw new Error('no tenant');
      },
      hooks: {
        onFinish: () => {
          calls += 1;
          if (calls === 1) throw new Error('sync');
          return Promise.reject(new Error('async'));
        },
      },
    });
    await request(app).post(PATH).send(chat()).expect(200);
    await request(app).post(PATH).send(chat()).expect(200);
    await waitFor(() => errorsIn(entries).length === 4, 3000, 'four errors');
    expect(errorsIn(entries).map((e) => [e.message, e.error]).sort()).toEqual([
      ['hooks.onFinish threw', 'async'],
      ['hooks.onFinish threw', 'sync'],
      ['logFields threw', 'no tenant'],
      ['logFields threw', 'no tenant'],
    ]);
    expect(entries.filter((e) => e.status === 200)).toHaveLength(2);
    await router.close();
  });

  it('logFields alone adds its fields to the log entry', async () => {
    const { app, router, entries } = tracked({ providers: [provider(upstream.baseUrl)], logFields: () => ({ user: 'u-1' }) });
    await request(app).post(PATH).send(chat()).expect(200);
    await waitFor(() => entries.length === 1, 3000, 'the entry');
    expect(entries[0]).toMatchObject({ user: 'u-1', status: 200 });
    await router.close();
  });
});
