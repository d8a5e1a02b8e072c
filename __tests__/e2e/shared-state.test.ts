/**
 * Several router instances (two or three Express apps, each with its own node-redis client and
 * store) behind one real Redis: breakers, health checks, rate limits and the response-id map are
 * shared; Redis dying mid-run loses no request, and its return heals them without a restart.
 */
import { randomUUID } from 'node:crypto';
import { createRedisStore } from '../../lib/redis/index.js';
import type { RedisStore } from '../../lib/redis/index.js';
import type { LlmProxyOptions } from '../../lib/index.js';
import { proberLockMs } from '../../lib/router/mount-health.js';
import { buildApp, listen, provider } from '../kit/app.js';
import { connectClient, describeWithRedis, startRedis } from '../kit/redis-server.js';
import type { TestRedis } from '../kit/redis-server.js';
import { closeAfterEach } from '../kit/stream-client.js';
import type { RecordedRequest, TestUpstream } from '../kit/upstream.js';
import { okJson, sleep, startUpstream } from '../kit/upstream.js';
import { responsesUpstream } from '../kit/responses-upstream.js';
import { failOnUnhandledErrors } from '../kit/unhandled.js';

/** The documented bound for a change on one instance to reach the others. */
const PROPAGATION_MS = 1000;
const ADMIN = 'admin-key';
const MODELS = { 'gpt-test': 'upstream-gpt' };
const chat = { model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] };
const quiet = { warn: () => undefined, error: () => undefined, info: () => undefined };
const isProbe = (seen: RecordedRequest) => seen.json?.max_tokens === 5 && (seen.json?.messages as { content: string }[] | undefined)?.[0]?.content === 'Hi';

interface Instance {
  url: string;
  store: RedisStore;
  post(headers?: Record<string, string>): Promise<Response>;
  health(): Promise<{ providers: { provider_key: string; status: string }[]; breakers: { provider_id: number; state: string }[] }>;
}

/** Polls an async condition; fails after `ms`. */
async function eventually(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const until = performance.now() + ms;
  while (!(await check())) {
    if (performance.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

describeWithRedis('several instances sharing one Redis', () => {
  failOnUnhandledErrors();
  const track = closeAfterEach();
  let redis: TestRedis;
  let good: TestUpstream;
  let dead: TestUpstream;
  let probesFail = false;
  /** When each health probe reached the `dead` upstream: one per round. */
  const probeTimes: number[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    good = await startUpstream(okJson);
    dead = await startUpstream((req, res, seen) => {
      if (isProbe(seen)) probeTimes.push(performance.now());
      if (isProbe(seen) && !probesFail) return okJson(req, res, seen);
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end('{"error":{"message":"overloaded"}}');
    });
  });
  beforeEach(() => {
    good.requests.length = 0;
    dead.requests.length = 0;
    probeTimes.length = 0;
    probesFail = false;
  });
  afterAll(async () => {
    await good?.close();
    await dead?.close();
    await redis?.stop();
  });

  const providers = () => [provider(dead.baseUrl, { id: 1, key: 'dead', models: MODELS }), goodOnly()[0]];
  const goodOnly = () => [provider(good.baseUrl, { id: 2, key: 'good', models: MODELS })];

  /** `n` instances of one deployment (one prefix), each with its own client, store, app and port. */
  async function deployment(n: number, options: Partial<LlmProxyOptions> = {}, storeTimeoutMs?: number): Promise<Instance[]> {
    const prefix = `t-${randomUUID()}:`;
    const instances: Instance[] = [];
    for (let i = 0; i < n; i++) {
      const client = await connectClient(redis.url);
      const store = createRedisStore({ client, prefix, logger: quiet, ...(storeTimeoutMs === undefined ? {} : { timeoutMs: storeTimeoutMs }) });
      await store.ready;
      const { app, router } = buildApp({ providers: providers(), store, adminKey: ADMIN, logRequests: false, retry: { maxAttempts: 1 }, ...options });
      const server = await listen(app);
      track(async () => {
        await server.close();
        await router.close();
        await store.close();
        client.destroy();
      });
      instances.push({
        url: server.url,
        store,
        post: (headers = {}) => fetch(`${server.url}/llm/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(chat) }),
        health: async () => (await (await fetch(`${server.url}/llm/admin/v1/health`, { headers: { authorization: `Bearer ${ADMIN}` } })).json()) as Awaited<ReturnType<Instance['health']>>,
      });
    }
    return instances;
  }

  const deadIsOpen = async (instance: Instance) => (await instance.health()).breakers.some((pair) => pair.provider_id === 1 && pair.state === 'open');

  it(`respects on B, within ${PROPAGATION_MS} ms, a breaker opened through A`, async () => {
    const [a, b] = await deployment(2, { breaker: { failureThreshold: 2, cooldownMs: 60_000 } });
    while (dead.requests.length < 2) await (await a.post()).text(); // round-robin: every other request fails
    await eventually(() => deadIsOpen(b), PROPAGATION_MS, 'B to report the breaker open');
    for (let i = 0; i < 10; i++) {
      const res = await b.post();
      expect(res.status).toBe(200);
      expect(res.headers.get('x-llm-proxy-provider')).toBe('good');
    }
    expect(dead.requests).toHaveLength(2);
  });

  it('sends one half-open probe after the cooldown, from one instance, however many requests both get', async () => {
    const [a, b] = await deployment(2, { breaker: { failureThreshold: 2, cooldownMs: 300 } });
    while (dead.requests.length < 2) await (await a.post()).text();
    await eventually(() => deadIsOpen(b), PROPAGATION_MS, 'B to report the breaker open');
    await sleep(350); // the cooldown is over on both
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).post()));
    await Promise.all(answers.map((res) => res.text()));
    expect(dead.requests.length).toBe(3); // the two failures, then one probe (which failed: open again for 600 ms)
    expect(answers.filter((res) => res.headers.get('x-llm-proxy-provider') === 'good')).toHaveLength(19);
  });

  it('admits exactly 10 of 30 concurrent requests across A and B under a 10-per-minute limit', async () => {
    // A count that took longer than the store's timeout would be admitted uncounted (failing open,
    // as documented); a loaded CI machine must not turn that into a miscount here.
    const [a, b] = await deployment(2, { limits: { requestsPerMinute: 10 }, providers: goodOnly() }, 2000);
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? a : b).post()));
    const statuses = answers.map((res) => res.status);
    expect(statuses.filter((status) => status === 200)).toHaveLength(10);
    expect(statuses.filter((status) => status === 429)).toHaveLength(20);
    const refused = answers.find((res) => res.status === 429)!;
    expect(refused.headers.get('x-ratelimit-limit-requests')).toBe('10');
    expect(refused.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    const bodies = await Promise.all(answers.map((res) => res.text()));
    expect(JSON.parse(bodies[answers.indexOf(refused)])).toMatchObject({ error: { code: 'rate_limit_exceeded' } });
  });

  it('sends a follow-up that lands on B to the provider that served the create on A (the response-id map)', async () => {
    const left = await startUpstream(responsesUpstream({ prefix: 'left' }));
    const right = await startUpstream(responsesUpstream({ prefix: 'right' }));
    track(() => left.close());
    track(() => right.close());
    const responders = [
      provider(left.baseUrl, { id: 11, key: 'left', models: { 'gpt-r': 'gpt-r' } }),
      provider(right.baseUrl, { id: 12, key: 'right', models: { 'gpt-r': 'gpt-r' } }),
    ];
    const [a, b] = await deployment(2, { providers: responders });
    const created: { id: string; provider: string }[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${a.url}/llm/v1/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-r', input: `hi ${i}` }) });
      const body = (await res.json()) as { id: string };
      created.push({ id: body.id, provider: res.headers.get('x-llm-proxy-provider')! });
    }
    expect(new Set(created.map((c) => c.provider))).toEqual(new Set(['left', 'right'])); // round-robin used both
    for (const { id, provider: home } of created) {
      const upstream = home === 'left' ? left : right;
      const seenBefore = upstream.requests.length;
      // Both by id and as a continuation: each reaches the provider that holds the response.
      const retrieved = await fetch(`${b.url}/llm/v1/responses/${id}`);
      expect(retrieved.status).toBe(200);
      expect(retrieved.headers.get('x-llm-proxy-provider')).toBe(home);
      const followUp = await fetch(`${b.url}/llm/v1/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-r', input: 'and then?', previous_response_id: id }) });
      expect(followUp.status).toBe(200);
      expect(followUp.headers.get('x-llm-proxy-provider')).toBe(home);
      expect(upstream.requests.slice(seenBefore).map((seen) => seen.method)).toEqual(['GET', 'POST']);
    }
  });

  it('makes one round of background probes per interval across three instances, and every instance uses its results', async () => {
    const intervalMs = 300;
    probesFail = true;
    const instances = await deployment(3, { health: { intervalMs, timeoutMs: 1000 } });
    await sleep(intervalMs * 6);
    // Three instances without the lock: three probes at start, three per interval.
    const gaps = probeTimes.slice(1).map((time, i) => time - probeTimes[i]);
    expect(probeTimes.length).toBeGreaterThanOrEqual(4);
    expect(Math.min(...gaps)).toBeGreaterThan(proberLockMs(intervalMs) - 60); // the lock's span, less the probe's own jitter
    expect(good.requests.filter(isProbe)).toHaveLength(probeTimes.length); // each round probes every provider once
    for (const instance of instances) {
      const { providers: reports } = await instance.health();
      expect(reports.find((report) => report.provider_key === 'dead')).toMatchObject({ status: 'unhealthy' });
      const res = await instance.post();
      expect(res.headers.get('x-llm-proxy-provider')).toBe('good'); // steered by the shared mark
    }
  });

  it('loses no request when Redis is killed mid-run, and heals without restarting the proxies', async () => {
    const tenants: Record<string, { requestsPerMinute: number }> = { load: { requestsPerMinute: 1_000_000 }, counted: { requestsPerMinute: 5 } };
    const [a, b] = await deployment(2, {
      breaker: { failureThreshold: 2, cooldownMs: 60_000 },
      limits: { key: (req) => req.headers['x-tenant'] as string | undefined, forKey: (key) => tenants[key] },
      providers: goodOnly(),
    });
    let running = true;
    const statuses: number[] = [];
    const load = async (instance: Instance) => {
      while (running) {
        const res = await instance.post({ 'x-tenant': 'load' });
        statuses.push(res.status);
        await res.text();
      }
    };
    const loops = [a, b, a, b].map(load);
    await sleep(200);
    await redis.kill();
    await sleep(500);
    await redis.restart(); // empty: everything was lost
    await eventually(async () => !(await a.store.hit('ping', { requestsPerMinute: 1_000_000 })).unavailable, 5000, 'A to reach Redis again');
    await eventually(async () => !(await b.store.hit('ping', { requestsPerMinute: 1_000_000 })).unavailable, 5000, 'B to reach Redis again');
    await sleep(200);
    running = false;
    await Promise.all(loops);
    expect(statuses.length).toBeGreaterThan(20);
    expect(statuses.filter((status) => status !== 200)).toEqual([]);

    // Counting again across both instances: exactly 5 of 8 admitted.
    const counted = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? a : b).post({ 'x-tenant': 'counted' })));
    expect(counted.filter((res) => res.status === 200)).toHaveLength(5);
    await Promise.all(counted.map((res) => res.text()));
  });

  it('replays on reconnect a breaker opened while Redis was down', async () => {
    const [a, b] = await deployment(2, { breaker: { failureThreshold: 2, cooldownMs: 60_000 } });
    await redis.kill();
    while (dead.requests.length < 2) await (await a.post()).text();
    await sleep(100);
    expect(await deadIsOpen(a)).toBe(true); // A steers by its own state meanwhile
    expect(await deadIsOpen(b)).toBe(false);
    await redis.restart();
    await eventually(() => deadIsOpen(b), 5000, 'B to learn of the breaker once Redis is back');
  });
});
