/**
 * A misbehaving Redis: killed (connections drop) and restarted empty, or paused (connections stay
 * open, nothing answers). Calls a request waits on give up within the timeout, local state keeps
 * serving, the outage is logged once at warn and its end once at info, and the store resyncs.
 */
import { randomUUID } from 'node:crypto';
import { createRedisStore } from '../../../lib/redis/index.js';
import type { RedisStore, StoreLogger } from '../../../lib/redis/index.js';
import { connectClient, describeWithRedis, startRedis } from '../../kit/redis-server.js';
import type { TestRedis } from '../../kit/redis-server.js';
import { waitFor } from '../../kit/stream-client.js';
import { failOnUnhandledErrors } from '../../kit/unhandled.js';

type Counter = { n: number };

function captureLogger() {
  const lines: [string, string][] = [];
  const at = (level: string) => (message: string) => void lines.push([level, message]);
  return { logger: { warn: at('warn'), info: at('info'), error: at('error') }, count: (level: string) => lines.filter(([l]) => l === level).length, lines };
}

/** Fails instead of hanging: the bound is generous, it only tells "gave up" from "waits for Redis". */
function settlesWithin<T>(promise: Promise<T>, ms = 1000): Promise<T> {
  let timer: NodeJS.Timeout;
  const hung = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`still waiting after ${ms} ms`)), ms)));
  return Promise.race([promise, hung]).finally(() => clearTimeout(timer));
}

/**
 * Settles before the next setImmediate: it did not wait on Redis (paused here, so an answer from
 * it never comes) nor on a timer. A bound on time instead would fail on a loaded machine.
 */
async function settlesAtOnce<T>(promise: Promise<T>): Promise<T> {
  const pending = Symbol('pending');
  const first = await Promise.race([promise, new Promise<typeof pending>((resolve) => setImmediate(() => resolve(pending)))]);
  if (first === pending) throw new Error('still waiting at the next setImmediate: it waited on Redis or on a timer');
  return first as T;
}

describeWithRedis('Redis store: outages', () => {
  failOnUnhandledErrors();
  let redis: TestRedis;
  const cleanups: (() => Promise<unknown>)[] = [];

  async function store(prefix: string, logger: StoreLogger, timeoutMs?: number): Promise<RedisStore> {
    const client = await connectClient(redis.url);
    const created = createRedisStore({ client, prefix, logger, timeoutMs });
    cleanups.push(async () => {
      await created.close();
      client.destroy(); // not close(): after a failed test, Redis may be gone and close() would wait for it
    });
    await created.ready;
    return created;
  }

  beforeEach(async () => {
    redis = await startRedis();
  });
  afterEach(async () => {
    redis.resume();
    for (const cleanup of cleanups.splice(0)) await cleanup();
    await redis.stop();
  });

  it('keeps serving local state while Redis is down, warns once, then resyncs when it is back', async () => {
    const prefix = `t-${randomUUID()}:`;
    const logA = captureLogger();
    const a = await store(prefix, logA.logger);
    const b = await store(prefix, captureLogger().logger);
    await a.records<Counter>('breaker').update('k', () => ({ n: 1 }));
    a.remember('resp_1', 'openai', 60_000);
    await waitFor(() => b.records<Counter>('breaker').get('k')?.n === 1, 1000, 'B to see k');

    await redis.kill();
    const calls = await settlesWithin(
      Promise.all([
        ...Array.from({ length: 20 }, () => a.hit('key', { requestsPerMinute: 10 })),
        a.recallRemote('resp_2'),
        a.tryLock('probe', 5000),
      ]),
    );
    expect(calls.slice(0, 20)).toEqual(Array.from({ length: 20 }, () => ({ unavailable: true })));
    expect(calls.slice(20)).toEqual([undefined, true]); // the lock falls back to this instance's
    expect(await a.tryLock('probe', 5000)).toBe(false);
    // Local state still serves: reads, and updates (kept pending for Redis).
    expect(a.records<Counter>('breaker').get('k')).toEqual({ n: 1 });
    expect(a.recall('resp_1')).toBe('openai');
    await settlesWithin(a.records<Counter>('breaker').update('during', () => ({ n: 42 })));
    expect(a.records<Counter>('breaker').get('during')).toEqual({ n: 42 });
    expect(logA.count('warn')).toBe(1);
    expect(logA.count('info')).toBe(0);

    await redis.restart(); // empty: no persistence
    await waitFor(() => logA.count('info') === 1, 5000, 'the recovery line');
    // A's update made during the outage reached Redis on resync, and B hears of it.
    await waitFor(() => b.records<Counter>('breaker').get('during')?.n === 42, 5000, 'B to see the replayed update');
    // Redis lost `k`: both mirrors follow Redis, not their memory of it.
    await waitFor(() => a.records('breaker').get('k') === undefined && b.records('breaker').get('k') === undefined, 5000, 'k gone');
    // And pub/sub works again, both ways.
    await b.records<Counter>('breaker').update('after', () => ({ n: 7 }));
    await waitFor(() => a.records<Counter>('breaker').get('after')?.n === 7, 1000, 'A to see B again');
    expect(await a.hit(`k-${randomUUID()}`, { requestsPerMinute: 1 })).toMatchObject({ allowed: true });
    expect(logA.count('warn')).toBe(1);
    expect(logA.count('info')).toBe(1);
    expect(logA.count('error')).toBe(0);
  });

  it('gives up after timeoutMs on a Redis that stops answering, then stops asking it until it answers again', async () => {
    const prefix = `t-${randomUUID()}:`;
    const logA = captureLogger();
    const a = await store(prefix, logA.logger, 300);
    const b = await store(prefix, captureLogger().logger);

    redis.pause();
    const decisions = await settlesWithin(Promise.all(Array.from({ length: 5 }, () => a.hit('key', { requestsPerMinute: 10 }))));
    expect(decisions).toEqual(Array.from({ length: 5 }, () => ({ unavailable: true })));
    expect(logA.count('warn')).toBe(1);
    // Known down now: the next calls do not ask Redis, nor wait the 300 ms again.
    expect(await settlesAtOnce(a.hit('key', { requestsPerMinute: 10 }))).toEqual({ unavailable: true });
    expect(await settlesAtOnce(a.recallRemote('resp_x'))).toBeUndefined();
    expect(await settlesAtOnce(a.tryLock('probe', 1000))).toBe(true); // this instance's lock
    // An update applies locally at once and waits, pending, for Redis.
    await expect(settlesAtOnce(a.records<Counter>('breaker').update('k', () => ({ n: 3 })))).resolves.toEqual({ n: 3 });
    expect(a.records<Counter>('breaker').get('k')).toEqual({ n: 3 });

    redis.resume();
    await waitFor(() => logA.count('info') === 1, 3000, 'the recovery line');
    await waitFor(() => b.records<Counter>('breaker').get('k')?.n === 3, 1000, 'B to see the pending update');
    expect(await a.hit(`k-${randomUUID()}`, { requestsPerMinute: 1 })).toMatchObject({ allowed: true });
    expect(logA.count('warn')).toBe(1);
  });
});
