/**
 * The `limits` option through real HTTP, on the default memory store: the 429 a client gets, whom
 * a request counts against, tokens charged from the answers' usage, per-key limits, and a store
 * that cannot count (fail open, or 503 with `failClosed`).
 */
import request from 'supertest';
import { MemoryStore } from '../../lib/index.js';
import type { RateLimitDecision, RateLimits } from '../../lib/index.js';
import { buildApp, listen, provider } from '../kit/app.js';
import { closeAfterEach, timedPost, waitFor } from '../kit/stream-client.js';
import { chunkEvent, completion, okJson, useUpstream } from '../kit/upstream.js';
import { failOnUnhandledErrors } from '../kit/unhandled.js';

const upstream = useUpstream();
failOnUnhandledErrors();
const track = closeAfterEach();

const PATH = '/llm/v1/chat/completions';
const chat = (extra: Record<string, unknown> = {}) => ({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }], ...extra });

/** A memory store that counts its `hit` calls and can be told it cannot count. */
class ObservedStore extends MemoryStore {
  hits = 0;
  keys: string[] = [];
  charged: [string, number][] = [];
  unavailable = false;
  override hit(key: string, limits: RateLimits, now?: number): Promise<RateLimitDecision> {
    this.hits++;
    this.keys.push(key);
    return this.unavailable ? Promise.resolve({ unavailable: true }) : super.hit(key, limits, now);
  }
  override charge(key: string, tokens: number, now?: number): void {
    this.charged.push([key, tokens]);
    super.charge(key, tokens, now);
  }
}

describe('rate limits', () => {
  it('refuses the request over the limit with 429 rate_limit_exceeded, retry-after and the x-ratelimit-*-requests trio', async () => {
    upstream.setHandler((req, res, seen) => {
      res.setHeader('x-ratelimit-limit-requests', '5000'); // the provider's own limits
      res.setHeader('x-ratelimit-remaining-requests', '4999');
      okJson(req, res, seen);
    });
    const { app, router } = buildApp({ providers: [provider(upstream.baseUrl)], limits: { requestsPerMinute: 2 } });
    for (let i = 0; i < 2; i++) {
      const ok = await request(app).post(PATH).send(chat()).expect(200);
      // An answer passed through keeps the upstream's headers: they describe the provider's limits.
      expect(ok.headers['x-ratelimit-limit-requests']).toBe('5000');
      expect(ok.headers['x-ratelimit-remaining-requests']).toBe('4999');
    }
    const refused = await request(app).post(PATH).send(chat()).expect(429);
    expect(refused.body.error).toMatchObject({ type: 'requests', code: 'rate_limit_exceeded', param: null, message: expect.stringContaining('limit 2') });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(59);
    expect(refused.headers).toMatchObject({ 'x-ratelimit-limit-requests': '2', 'x-ratelimit-remaining-requests': '0' });
    expect(refused.headers['x-ratelimit-reset-requests']).toMatch(/^(59(\.\d+)?s|1m0s)$/);
    expect(refused.headers['x-ratelimit-limit-tokens']).toBeUndefined();
    expect(upstream.requests).toHaveLength(2); // the refused request never reached the upstream
    await request(app).get('/llm/v1/models').expect(200); // the router's own answers are not counted
    await router.close();
  });

  it('counts each API key on its own when apiKeys is set, and never stores a key raw', async () => {
    const store = new ObservedStore();
    const { app, router } = buildApp({ providers: [provider(upstream.baseUrl)], apiKeys: ['sk-alice', 'sk-bob'], store, limits: { requestsPerMinute: 1 } });
    await request(app).post(PATH).set('authorization', 'Bearer sk-alice').send(chat()).expect(200);
    await request(app).post(PATH).set('authorization', 'Bearer sk-alice').send(chat()).expect(429);
    await request(app).post(PATH).set('authorization', 'Bearer sk-bob').send(chat()).expect(200);
    await request(app).post(PATH).set('authorization', 'Bearer sk-nobody').send(chat()).expect(401); // auth runs first
    expect(store.hits).toBe(3);
    expect(new Set(store.keys).size).toBe(2);
    expect(store.keys.join(' ')).not.toMatch(/alice|bob/);
    await router.close();
  });

  it('counts the identity an apiKeys predicate gave, so two keys of one team share a window', async () => {
    const { app, router } = buildApp({
      providers: [provider(upstream.baseUrl)],
      apiKeys: (key) => (key.startsWith('sk-team-a-') ? 'team-a' : key === 'sk-solo' ? true : false),
      limits: { requestsPerMinute: 2 },
    });
    const send = (key: string) => request(app).post(PATH).set('authorization', `Bearer ${key}`).send(chat()).then((res) => res.status);
    expect([await send('sk-team-a-1'), await send('sk-team-a-2'), await send('sk-team-a-1')]).toEqual([200, 200, 429]);
    expect([await send('sk-solo'), await send('sk-solo'), await send('sk-solo')]).toEqual([200, 200, 429]); // no identity: by key
    await router.close();
  });

  it('charges input + output tokens after each answer, JSON or stream, and refuses once the window holds the limit', async () => {
    const store = new ObservedStore();
    const { app, router } = buildApp({ providers: [provider(upstream.baseUrl)], store, logRequests: false, limits: { tokensPerMinute: 30 }, heartbeatMs: 0 });
    track(() => router.close());
    await request(app).post(PATH).send(chat()).expect(200); // usage 5 + 6
    await waitFor(() => store.charged.length === 1, 2000, 'the first charge');
    upstream.setHandler((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(chunkEvent('upstream-gpt', 'Hi', 'stop'));
      res.write(`data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', choices: [], usage: { prompt_tokens: 10, completion_tokens: 9, total_tokens: 19 } })}\n\n`);
      res.end('data: [DONE]\n\n');
    });
    const server = await listen(app);
    track(server.close);
    await timedPost(server.url + PATH, chat({ stream: true, stream_options: { include_usage: true } })).done;
    await waitFor(() => store.charged.length === 2, 2000, 'the stream charge');
    expect(store.charged.map(([, tokens]) => tokens)).toEqual([11, 19]);
    const refused = await request(app).post(PATH).send(chat()).expect(429);
    expect(refused.body.error).toMatchObject({ type: 'tokens', code: 'rate_limit_exceeded' });
    expect(refused.headers).toMatchObject({ 'x-ratelimit-limit-tokens': '30', 'x-ratelimit-remaining-tokens': '0' });
    expect(refused.headers['x-ratelimit-limit-requests']).toBeUndefined(); // no request limit applies
  });

  it('takes the key from limits.key (undefined: not limited) and per-key limits from limits.forKey', async () => {
    const store = new ObservedStore();
    const seenByForKey: string[] = [];
    const { app, router } = buildApp({
      providers: [provider(upstream.baseUrl)],
      store,
      limits: {
        requestsPerMinute: 1,
        key: (req) => req.headers['x-tenant'] as string | undefined,
        forKey: (key) => {
          seenByForKey.push(key);
          return key === 'gold' ? { requestsPerMinute: 3 } : key === 'internal' ? {} : undefined;
        },
      },
    });
    const send = (tenant?: string) => {
      const req = request(app).post(PATH);
      if (tenant) req.set('x-tenant', tenant);
      return req.send(chat()).then((res) => res.status);
    };
    expect([await send('free'), await send('free')]).toEqual([200, 429]);
    expect([await send('gold'), await send('gold'), await send('gold'), await send('gold')]).toEqual([200, 200, 200, 429]);
    expect([await send('internal'), await send('internal'), await send(), await send()]).toEqual([200, 200, 200, 200]);
    expect(new Set(seenByForKey)).toEqual(new Set(['free', 'gold', 'internal'])); // the key as given, before hashing
    expect(store.hits).toBe(6); // neither the unlimited key nor the keyless requests asked the store
    await router.close();
  });

  it('never asks the store without limits', async () => {
    const store = new ObservedStore();
    const { app, router } = buildApp({ providers: [provider(upstream.baseUrl)], store });
    for (let i = 0; i < 3; i++) await request(app).post(PATH).send(chat()).expect(200);
    expect(store.hits).toBe(0);
    await router.close();
  });

  it('fails open while the store cannot count, warning once; failClosed answers 503 rate_limiter_unavailable instead', async () => {
    const store = new ObservedStore();
    store.unavailable = true;
    const open = buildApp({ providers: [provider(upstream.baseUrl)], store, limits: { requestsPerMinute: 1 } });
    for (let i = 0; i < 3; i++) await request(open.app).post(PATH).send(chat()).expect(200);
    const warnings = () => open.entries.filter((entry) => entry.level === 'warn' && String(entry.message).includes('rate limits cannot be counted'));
    expect(warnings()).toHaveLength(1);
    store.unavailable = false;
    await request(open.app).post(PATH).send(chat()).expect(200);
    await request(open.app).post(PATH).send(chat()).expect(429);
    store.unavailable = true; // a second outage is a second warning
    await request(open.app).post(PATH).send(chat()).expect(200);
    expect(warnings()).toHaveLength(2);
    await open.router.close();

    const closed = buildApp({ providers: [provider(upstream.baseUrl)], store, limits: { requestsPerMinute: 1, failClosed: true } });
    const refused = await request(closed.app).post(PATH).send(chat()).expect(503);
    expect(refused.body.error).toMatchObject({ type: 'server_error', code: 'rate_limiter_unavailable' });
    expect(refused.headers['retry-after']).toBe('1');
    await closed.router.close();
  });

  it('answers 500 when limits.key throws or forKey gives limits that are not integers, and logs it', async () => {
    const throwing = buildApp({ providers: [provider(upstream.baseUrl)], limits: { requestsPerMinute: 1, key: () => { throw new Error('tenant lookup failed'); } } });
    const res = await request(throwing.app).post(PATH).send(chat()).expect(500);
    expect(res.body.error).toMatchObject({ code: 'internal_error' });
    await waitFor(() => throwing.entries.some((entry) => entry.level === 'error' && entry.error === 'tenant lookup failed'), 1000, 'the error entry');
    await throwing.router.close();
    const bad = buildApp({ providers: [provider(upstream.baseUrl)], limits: { forKey: () => ({ requestsPerMinute: 0.5 }) } });
    await request(bad.app).post(PATH).send(chat()).expect(500);
    expect(upstream.requests).toHaveLength(0);
    await bad.router.close();
  });

  it('charges nothing for an answer that reports no usage', async () => {
    upstream.setHandler((_req, res) => {
      const { usage: _usage, ...body } = completion('upstream-gpt');
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    });
    const store = new ObservedStore();
    const { app, router } = buildApp({ providers: [provider(upstream.baseUrl)], store, limits: { tokensPerMinute: 1 } });
    for (let i = 0; i < 3; i++) await request(app).post(PATH).send(chat()).expect(200);
    await new Promise((resolve) => setImmediate(resolve));
    expect(store.charged).toEqual([]);
    await router.close();
  });
});
