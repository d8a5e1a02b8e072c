/**
 * What every `StateStore` must do, seen from one instance: run inside a `describe` with a getter for
 * the store under test (the memory store, or a Redis store). Keys are unique per test, so one store
 * can serve every test. Rate limits use an injected `now`.
 */
import { randomUUID } from 'node:crypto';
import type { StateStore } from '../../lib/state/types.js';

const T0 = 1_700_000_000_000;
const fresh = (what: string) => `${what}-${randomUUID()}`;

export function stateStoreContract(store: () => StateStore): void {
  it('counts requests over a sliding 60 s window: N admitted, then one more per request that left the window', async () => {
    const key = fresh('rpm');
    const remaining: number[] = [];
    for (let i = 0; i < 3; i++) {
      const decision = await store().hit(key, { requestsPerMinute: 3 }, T0 + i * 1000);
      expect(decision.allowed).toBe(true);
      remaining.push(decision.requests!.remaining);
    }
    expect(remaining).toEqual([2, 1, 0]);
    const refused = await store().hit(key, { requestsPerMinute: 3 }, T0 + 30_000);
    expect(refused).toEqual({ allowed: false, requests: { limit: 3, remaining: 0, resetMs: 30_000 } });
    expect((await store().hit(key, { requestsPerMinute: 3 }, T0 + 59_999)).allowed).toBe(false);
    // The first request leaves the window at T0 + 60 s: one place, and the refused ones never counted.
    const again = await store().hit(key, { requestsPerMinute: 3 }, T0 + 60_000);
    expect(again).toEqual({ allowed: true, requests: { limit: 3, remaining: 0, resetMs: 1000 } });
    expect((await store().hit(key, { requestsPerMinute: 3 }, T0 + 60_500)).allowed).toBe(false);
    expect((await store().hit(key, { requestsPerMinute: 3 }, T0 + 61_000)).allowed).toBe(true);
  });

  it('admits while the tokens charged in the window are under the token limit', async () => {
    const key = fresh('tpm');
    const limits = { tokensPerMinute: 100 };
    expect(await store().hit(key, limits, T0)).toEqual({ allowed: true, tokens: { limit: 100, remaining: 100, resetMs: 0 } });
    store().charge(key, 60, T0);
    store().charge(key, 50, T0 + 10_000);
    await settled(store(), key, limits, T0 + 10_000, (d) => d.tokens?.remaining === 0);
    // Over the limit until the first charge leaves: then 50 < 100.
    expect(await store().hit(key, limits, T0 + 20_000)).toEqual({ allowed: false, tokens: { limit: 100, remaining: 0, resetMs: 40_000 } });
    expect(await store().hit(key, limits, T0 + 60_000)).toEqual({ allowed: true, tokens: { limit: 100, remaining: 50, resetMs: 10_000 } });
    expect((await store().hit(key, limits, T0 + 70_000)).tokens).toEqual({ limit: 100, remaining: 100, resetMs: 0 });
  });

  it('does not count a request refused for its tokens against the request limit', async () => {
    const key = fresh('both');
    const limits = { requestsPerMinute: 2, tokensPerMinute: 10 };
    expect((await store().hit(key, limits, T0)).allowed).toBe(true);
    store().charge(key, 10, T0);
    await settled(store(), key, limits, T0, (d) => d.tokens?.remaining === 0);
    const refused = await store().hit(key, limits, T0 + 1000);
    expect(refused).toMatchObject({ allowed: false, requests: { remaining: 1 }, tokens: { remaining: 0, resetMs: 59_000 } });
    const later = await store().hit(key, limits, T0 + 60_000);
    expect(later).toMatchObject({ allowed: true, requests: { remaining: 1 } });
  });

  it('admits anything without limits, and rejects a limit that is not an integer >= 1', async () => {
    expect(await store().hit(fresh('none'), {}, T0)).toEqual({ allowed: true });
    await expect(store().hit(fresh('bad'), { requestsPerMinute: 0 }, T0)).rejects.toThrow(/requestsPerMinute/);
    await expect(store().hit(fresh('bad'), { tokensPerMinute: 1.5 }, T0)).rejects.toThrow(/tokensPerMinute/);
  });

  it('updates records through pure functions, and reads them back synchronously', async () => {
    const records = store().records<{ n: number }>(fresh('ns'));
    const first = records.update('a', (current) => ({ n: (current?.n ?? 0) + 1 }));
    expect(records.get('a')).toEqual({ n: 1 }); // at once, before the promise
    await expect(first).resolves.toEqual({ n: 1 });
    await records.update('a', (current) => ({ n: current!.n + 1 }));
    await records.update('b', () => ({ n: 7 }));
    expect(Object.fromEntries(records.entries())).toEqual({ a: { n: 2 }, b: { n: 7 } });
    expect(records.size).toBe(2);
    await records.delete('a');
    expect(records.get('a')).toBeUndefined();
    expect(records.size).toBe(1);
    const unchanged = records.get('b');
    await records.update('b', (current) => current); // no change: nothing written
    expect(records.get('b')).toBe(unchanged);
  });

  it('gives a lock to one caller until it expires or is released', async () => {
    const name = fresh('lock');
    expect(await store().tryLock(name, 60_000)).toBe(true);
    expect(await store().tryLock(name, 60_000)).toBe(false);
    store().releaseLock(name);
    await until(async () => store().tryLock(name, 60_000));
    expect(await store().tryLock(name, 60_000)).toBe(false);
  });

  it('remembers which provider answered a response id', async () => {
    const id = fresh('resp');
    expect(store().recall(id)).toBeUndefined();
    store().remember(id, 'openai-eu', 60_000);
    expect(store().recall(id)).toBe('openai-eu');
    await until(async () => (await store().recallRemote(id)) === 'openai-eu');
    expect(await store().recallRemote(fresh('unknown'))).toBeUndefined();
  });
}

/** Fire-and-forget writes (charge, releaseLock) land a little later on a shared store. */
async function until(check: () => Promise<boolean>, ms = 1000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Waits until a charge is visible, probing without a request limit (a probe hit counts nothing then). */
async function settled(
  s: StateStore,
  key: string,
  limits: { tokensPerMinute?: number; requestsPerMinute?: number },
  now: number,
  check: (decision: Awaited<ReturnType<StateStore['hit']>>) => boolean,
): Promise<void> {
  await until(async () => check(await s.hit(key, { tokensPerMinute: limits.tokensPerMinute }, now)));
}
