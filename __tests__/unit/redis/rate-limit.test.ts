/**
 * Rate limits, locks and affinity on a real Redis: the same contract as the memory store, then
 * exactness across two stores hitting one key at once.
 */
import { randomUUID } from 'node:crypto';
import { createRedisStore } from '../../../lib/redis/index.js';
import type { RedisStore } from '../../../lib/redis/index.js';
import { connectClient, describeWithRedis, startRedis } from '../../kit/redis-server.js';
import type { TestRedis } from '../../kit/redis-server.js';
import { stateStoreContract } from '../../kit/state-contract.js';
import { failOnUnhandledErrors } from '../../kit/unhandled.js';

const quiet = { warn: () => undefined, error: () => undefined };

describeWithRedis('Redis store: rate limits, locks, affinity', () => {
  failOnUnhandledErrors();
  let redis: TestRedis;
  let a: RedisStore;
  let b: RedisStore;
  const clients: { close(): Promise<unknown> }[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    const prefix = `t-${randomUUID()}:`;
    for (const side of ['a', 'b'] as const) {
      const client = await connectClient(redis.url);
      clients.push(client);
      const store = createRedisStore({ client, prefix, logger: quiet });
      await store.ready;
      if (side === 'a') a = store;
      else b = store;
    }
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    for (const client of clients) await client.close();
    await redis?.stop();
  });

  describe('one store', () => {
    stateStoreContract(() => a);
  });

  it("counts on Redis's clock when no time is given, so an instance whose clock lags does not see its hits trimmed early", async () => {
    const key = `k-${randomUUID()}`;
    const realNow = Date.now;
    // This process's clock ten minutes behind while one instance counts its requests.
    Date.now = () => realNow() - 600_000;
    try {
      expect(await a.hit(key, { requestsPerMinute: 2 })).toMatchObject({ allowed: true });
      expect(await a.hit(key, { requestsPerMinute: 2 })).toMatchObject({ allowed: true });
    } finally {
      Date.now = realNow;
    }
    // Another instance with a right clock: both hits are in the window, whoever counted them.
    const third = await b.hit(key, { requestsPerMinute: 2 });
    expect(third).toMatchObject({ allowed: false, requests: { limit: 2, remaining: 0 } });
    expect(third.requests!.resetMs).toBeGreaterThan(50_000);
    expect(third.requests!.resetMs).toBeLessThanOrEqual(60_000);
    // A caller's own time still rules when given (the contract's fake clocks): an hour on, a new window.
    expect(await a.hit(key, { requestsPerMinute: 2 }, realNow() + 3_600_000)).toMatchObject({ allowed: true });
  });

  it('admits exactly 10 of 30 concurrent hits from two stores on a 10-per-minute key', async () => {
    const key = `k-${randomUUID()}`;
    const now = Date.now();
    const decisions = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? a : b).hit(key, { requestsPerMinute: 10 }, now)));
    expect(decisions.filter((d) => d.allowed)).toHaveLength(10);
    expect(decisions.filter((d) => d.allowed === false)).toHaveLength(20);
    const remaining = decisions.filter((d) => d.allowed).map((d) => d.requests!.remaining);
    expect(remaining.sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]); // each counted once
  });

  it('counts tokens charged by one store against hits on the other', async () => {
    const key = `k-${randomUUID()}`;
    const now = Date.now();
    expect((await b.hit(key, { tokensPerMinute: 1000 }, now)).allowed).toBe(true);
    a.charge(key, 600, now);
    a.charge(key, 400, now);
    let decision = await b.hit(key, { tokensPerMinute: 1000 }, now);
    for (let i = 0; decision.allowed && i < 100; i++) {
      await new Promise((resolve) => setTimeout(resolve, 5)); // charges are fire-and-forget
      decision = await b.hit(key, { tokensPerMinute: 1000 }, now);
    }
    expect(decision).toEqual({ allowed: false, tokens: { limit: 1000, remaining: 0, resetMs: 60_000 } });
  });

  it('gives a lock to one of 20 concurrent callers across two stores', async () => {
    const name = `probe-${randomUUID()}`;
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).tryLock(name, 10_000)));
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('frees a lock when its ttl passes (a holder that died does not block the others)', async () => {
    const name = `probe-${randomUUID()}`;
    expect(await a.tryLock(name, 100)).toBe(true);
    expect(await b.tryLock(name, 100)).toBe(false);
    let taken = false;
    for (let i = 0; !taken && i < 100; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      taken = await b.tryLock(name, 10_000);
    }
    expect(taken).toBe(true);
  });

  it('lets only the holder release a lock', async () => {
    const name = `probe-${randomUUID()}`;
    expect(await a.tryLock(name, 10_000)).toBe(true);
    b.releaseLock(name); // not b's: left alone
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await b.tryLock(name, 10_000)).toBe(false);
    a.releaseLock(name);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await b.tryLock(name, 10_000)).toBe(true);
  });

  it('recalls on B a response id remembered on A, and keeps it locally after', async () => {
    const id = `resp_${randomUUID()}`;
    a.remember(id, 'anthropic', 60_000);
    expect(b.recall(id)).toBeUndefined(); // B's local copy does not have it
    let provider: string | undefined;
    for (let i = 0; provider === undefined && i < 100; i++) {
      provider = await b.recallRemote(id);
      if (provider === undefined) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(provider).toBe('anthropic');
    expect(b.recall(id)).toBe('anthropic');
  });
});
