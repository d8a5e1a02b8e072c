/**
 * Breakers and health marks of several instances (one Redis store each, one real Redis): a change
 * on one reaches the others within the documented 1 s, listeners hear other instances' changes,
 * and the half-open probe after a cooldown is taken by exactly one instance.
 */
import { randomUUID } from 'node:crypto';
import { createRedisStore } from '../../../lib/redis/index.js';
import type { RedisStore } from '../../../lib/redis/index.js';
import { CircuitBreakers } from '../../../lib/resilience/breaker.js';
import type { BreakerStateName } from '../../../lib/resilience/breaker.js';
import { HealthMarks } from '../../../lib/resilience/health-marks.js';
import { clock } from '../../kit/clock.js';
import { connectClient, describeWithRedis, startRedis } from '../../kit/redis-server.js';
import type { TestRedis } from '../../kit/redis-server.js';
import { waitFor } from '../../kit/stream-client.js';
import { failOnUnhandledErrors } from '../../kit/unhandled.js';

/** The documented bound for a change to reach the other instances. */
const PROPAGATION_MS = 1000;
const OPTIONS = { failureThreshold: 2, cooldownMs: 1000, maxCooldownMs: 4000 };
const quiet = { warn: () => undefined, error: () => undefined, info: () => undefined };

describeWithRedis('Breakers and health marks shared through Redis', () => {
  failOnUnhandledErrors();
  let redis: TestRedis;
  const cleanups: (() => Promise<unknown>)[] = [];

  /** `n` instances' stores on a fresh prefix. */
  async function instances(n: number): Promise<RedisStore[]> {
    const prefix = `t-${randomUUID()}:`;
    const stores: RedisStore[] = [];
    for (let i = 0; i < n; i++) {
      const client = await connectClient(redis.url);
      const store = createRedisStore({ client, prefix, logger: quiet });
      cleanups.push(async () => {
        await store.close();
        client.destroy();
      });
      await store.ready;
      stores.push(store);
    }
    return stores;
  }

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  afterAll(() => redis?.stop());

  it(`shows a breaker opened on A to B within ${PROPAGATION_MS} ms, and tells B's listener of A's changes`, async () => {
    const time = clock(Date.now());
    const [storeA, storeB] = await instances(2);
    const heardOnB: [string | number, string, BreakerStateName][] = [];
    const a = new CircuitBreakers(OPTIONS, time.now, undefined, storeA);
    const b = new CircuitBreakers(OPTIONS, time.now, (id, model, state) => heardOnB.push([id, model, state]), storeB);
    a.record(7, 'gpt', 'failure');
    a.record(7, 'gpt', 'failure');
    await waitFor(() => b.availableAt(7, 'gpt') > 0, PROPAGATION_MS, 'B to see the open breaker');
    expect(b.availableAt(7, 'gpt')).toBe(time.now() + 1000);
    expect(b.report()).toEqual([{ provider_id: 7, model: 'gpt', state: 'open', consecutive_failures: 2, open_until: new Date(time.now() + 1000).toISOString() }]);
    expect(heardOnB).toEqual([[7, 'gpt', 'open']]);
    a.record(7, 'gpt', 'success');
    await waitFor(() => b.availableAt(7, 'gpt') === 0, PROPAGATION_MS, 'B to see it closed');
    expect(heardOnB).toEqual([
      [7, 'gpt', 'open'],
      [7, 'gpt', 'closed'],
    ]);
    b.close();
  });

  it('lets exactly one of three instances take the half-open probe, round after round', async () => {
    const time = clock(Date.now());
    const stores = await instances(3);
    const breakers = stores.map((store) => new CircuitBreakers(OPTIONS, time.now, undefined, store));
    for (let round = 0; round < 5; round++) {
      breakers[round % 3].record('p', 'm', 'failure');
      breakers[round % 3].record('p', 'm', 'failure');
      await waitFor(() => breakers.every((b) => b.availableAt('p', 'm') > 0), PROPAGATION_MS, 'every instance to see it open');
      time.advance(1000);
      // Each instance's mirror says half-open at the same moment: each tries to claim the probe.
      const claims = await Promise.all(breakers.map((b) => b.record('p', 'm', 'attempt')));
      expect(claims.filter((claim) => claim === true)).toHaveLength(1);
      const prober = breakers[claims.indexOf(true)];
      prober.record('p', 'm', 'success'); // closes the pair and frees the lock for the next round
      await waitFor(() => breakers.every((b) => b.availableAt('p', 'm') === 0), PROPAGATION_MS, 'every instance to see it closed');
    }
  });

  it('shows an unhealthy mark made on A to B within the bound, and its clearing', async () => {
    const time = clock(Date.now());
    const [storeA, storeB] = await instances(2);
    const a = new HealthMarks(60_000, time.now, storeA);
    const b = new HealthMarks(60_000, time.now, storeB);
    a.mark('p', 'm', false);
    await waitFor(() => b.isUnhealthy('p', 'm'), PROPAGATION_MS, 'B to see the mark');
    expect(b.report()).toEqual([{ provider_id: 'p', model: 'm', unhealthy_since: new Date(time.now()).toISOString() }]);
    b.mark('p', 'm', true); // e.g. a request through B succeeded
    await waitFor(() => !a.isUnhealthy('p', 'm'), PROPAGATION_MS, 'A to see it cleared');
  });
});
