/**
 * Shared records between two stores (two clients, as two router instances would have) on one real
 * Redis: changes travel by pub/sub, concurrent compare-and-set updates lose nothing, a new store
 * loads what exists, and a store cut off from Redis catches up when it is back.
 */
import { randomUUID } from 'node:crypto';
import { createRedisStore } from '../../../lib/redis/index.js';
import type { RedisStore } from '../../../lib/redis/index.js';
import { connectClient, describeWithRedis, startRedis } from '../../kit/redis-server.js';
import type { TestRedis } from '../../kit/redis-server.js';
import { waitFor } from '../../kit/stream-client.js';
import { startRelay } from '../../kit/tcp-relay.js';
import { failOnUnhandledErrors } from '../../kit/unhandled.js';

/** The documented bound for a change to reach the other instances. */
const PROPAGATION_MS = 1000;
const quiet = { warn: () => undefined, error: () => undefined, info: () => undefined };

type Counter = { n: number };
const increment = (current: Counter | undefined): Counter => ({ n: (current?.n ?? 0) + 1 });

describeWithRedis('Redis store: shared records', () => {
  failOnUnhandledErrors();
  let redis: TestRedis;
  const cleanups: (() => Promise<unknown>)[] = [];

  async function store(url = redis.url, prefix?: string): Promise<RedisStore> {
    const client = await connectClient(url);
    const created = createRedisStore({ client, prefix, logger: quiet });
    cleanups.push(async () => {
      await created.close();
      client.destroy(); // not close(): through a relay that is gone, close() would wait for a reconnect
    });
    await created.ready;
    return created;
  }

  /** Two instances sharing a fresh prefix. */
  async function pair(): Promise<[RedisStore, RedisStore, string]> {
    const prefix = `t-${randomUUID()}:`;
    return [await store(redis.url, prefix), await store(redis.url, prefix), prefix];
  }

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  afterAll(() => redis?.stop());

  it(`shows an update on A to B within ${PROPAGATION_MS} ms, and tells B's listener`, async () => {
    const [a, b] = await pair();
    const seen: [string, unknown][] = [];
    b.records<Counter>('breaker').onChange((key, value) => seen.push([key, value]));
    await a.records<Counter>('breaker').update('openai/gpt', () => ({ n: 5 }));
    await waitFor(() => b.records<Counter>('breaker').get('openai/gpt')?.n === 5, PROPAGATION_MS, 'B to see the update');
    expect(seen).toEqual([['openai/gpt', { n: 5 }]]);
    await a.records<Counter>('breaker').delete('openai/gpt');
    await waitFor(() => b.records<Counter>('breaker').get('openai/gpt') === undefined, PROPAGATION_MS, 'B to see the delete');
    expect(seen.at(-1)).toEqual(['openai/gpt', undefined]);
    expect(b.records('health').size).toBe(0); // namespaces are separate
  });

  it('loses no update when A and B each apply 50 increments concurrently', async () => {
    const [a, b] = await pair();
    const pause = () => new Promise((resolve) => setTimeout(resolve, Math.random() * 3));
    const hammer = (s: RedisStore) =>
      Promise.all(Array.from({ length: 50 }, async () => {
        await pause(); // interleave the two stores' writes
        return s.records<Counter>('breaker').update('k', increment);
      }));
    await Promise.all([hammer(a), hammer(b)]);
    await waitFor(() => a.records<Counter>('breaker').get('k')?.n === 100 && b.records<Counter>('breaker').get('k')?.n === 100, PROPAGATION_MS, 'both at 100');
  });

  it('runs an update again on the value Redis holds, not on a stale local copy', async () => {
    const [, b, prefix] = await pair();
    // Written behind B's back (no message): B's mirror still says there is no record.
    const raw = await connectClient(redis.url);
    await raw.hSet(`${prefix}records:breaker`, 'k', '5:{"n":1}');
    await raw.close();
    const inputs: (Counter | undefined)[] = [];
    const committed = await b.records<Counter>('breaker').update('k', (current) => {
      inputs.push(current);
      return { n: (current?.n ?? 0) + 10 };
    });
    expect(inputs).toEqual([undefined, { n: 1 }]); // locally (what the first try wrote), then on Redis's value
    expect(committed).toEqual({ n: 11 });
    expect(b.records<Counter>('breaker').get('k')).toEqual({ n: 11 });
  });

  it('loads what already exists when a store starts', async () => {
    const [a, , prefix] = await pair();
    await a.records<Counter>('health').update('x', () => ({ n: 3 }));
    const late = await store(redis.url, prefix);
    const health = late.records<Counter>('health'); // opened after the start: loaded on first use
    await waitFor(() => health.get('x')?.n === 3, PROPAGATION_MS, 'the late store to load x');
  });

  it('catches up after its connection was cut: a change made meanwhile is seen, with no new store', async () => {
    const prefix = `t-${randomUUID()}:`;
    const relay = await startRelay(redis.port);
    cleanups.push(() => relay.close());
    const cutOff = await store(relay.url, prefix);
    const other = await store(redis.url, prefix);
    const breakers = cutOff.records<Counter>('breaker');
    await other.records<Counter>('breaker').update('k', () => ({ n: 1 }));
    await waitFor(() => breakers.get('k')?.n === 1, PROPAGATION_MS, 'the first change');

    relay.cut();
    await other.records<Counter>('breaker').update('k', () => ({ n: 2 })); // published while cut off: missed
    await other.records<Counter>('breaker').update('j', () => ({ n: 7 }));
    await breakers.update('mine', () => ({ n: 9 })); // made locally during the cut
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(breakers.get('k')).toEqual({ n: 1 }); // still the local mirror
    expect(breakers.get('mine')).toEqual({ n: 9 });

    relay.restore();
    await waitFor(() => breakers.get('k')?.n === 2 && breakers.get('j')?.n === 7, 5000, 'the resync after reconnect');
    // …and the update made during the cut reached Redis on reconnect.
    await waitFor(() => other.records<Counter>('breaker').get('mine')?.n === 9, 5000, 'the replayed update');
  });

  it('does not apply an update twice when it committed but its answer was lost', async () => {
    const prefix = `t-${randomUUID()}:`;
    const relay = await startRelay(redis.port);
    cleanups.push(() => relay.close());
    const cutOff = await store(relay.url, prefix);
    const other = await store(redis.url, prefix);
    await other.records<Counter>('breaker').update('k', () => ({ n: 1 }));
    await waitFor(() => cutOff.records<Counter>('breaker').get('k')?.n === 1, PROPAGATION_MS, 'k = 1 everywhere');

    relay.swallowReplies();
    void cutOff.records<Counter>('breaker').update('k', increment); // runs in Redis; the answer is lost
    await waitFor(() => other.records<Counter>('breaker').get('k')?.n === 2, PROPAGATION_MS, 'the increment to commit');
    relay.cut(); // the connection drops with the answer outstanding
    await other.records<Counter>('breaker').update('marker', () => ({ n: 0 })); // to know when the resync loaded
    relay.restore();
    await waitFor(() => cutOff.records<Counter>('breaker').get('marker') !== undefined, 5000, 'the resync');

    const raw = await connectClient(redis.url);
    cleanups.push(async () => raw.destroy());
    const inRedis = async () => JSON.parse((await raw.hGet(`${prefix}records:breaker`, 'k'))!.replace(/^\d+:/, '')) as Counter;
    const views = async () => [cutOff.records<Counter>('breaker').get('k')?.n, other.records<Counter>('breaker').get('k')?.n, (await inRedis()).n];
    let seen = await views();
    for (let i = 0; new Set(seen).size > 1 && i < 200; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10)); // the replay is in flight
      seen = await views();
    }
    expect(seen).toEqual([2, 2, 2]); // once, not 3
  });
});
