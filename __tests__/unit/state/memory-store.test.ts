/** The in-process store: the shared contract, plus expiry on an injected clock and the affinity bound. */
import { MemoryStore } from '../../../lib/state/index.js';
import { stateStoreContract } from '../../kit/state-contract.js';

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('MemoryStore', () => {
  const store = new MemoryStore();
  stateStoreContract(() => store);

  it('lets a lock expire after its ttl', async () => {
    const time = clock();
    const locks = new MemoryStore({ now: time.now });
    expect(await locks.tryLock('probe', 1000)).toBe(true);
    time.advance(999);
    expect(await locks.tryLock('probe', 1000)).toBe(false);
    time.advance(1);
    expect(await locks.tryLock('probe', 1000)).toBe(true);
  });

  it('forgets response ids after their ttl, and the oldest first beyond maxAffinityEntries', () => {
    const time = clock();
    const affinity = new MemoryStore({ now: time.now, maxAffinityEntries: 2 });
    affinity.remember('r1', 'a', 10_000);
    affinity.remember('r2', 'b', 500);
    time.advance(500);
    expect(affinity.recall('r2')).toBeUndefined();
    affinity.remember('r2', 'b', 10_000);
    affinity.remember('r3', 'c', 10_000);
    expect([affinity.recall('r1'), affinity.recall('r2'), affinity.recall('r3')]).toEqual([undefined, 'b', 'c']);
  });

  it('keeps exactly the newest maxAffinityEntries through long churn, a re-remembered id counting as new', () => {
    const affinity = new MemoryStore({ maxAffinityEntries: 100 });
    const model: [string, string][] = []; // oldest first, as a plain list
    const remember = (id: string, value: string): void => {
      affinity.remember(id, value, 60_000);
      const at = model.findIndex(([known]) => known === id);
      if (at !== -1) model.splice(at, 1);
      model.push([id, value]);
      if (model.length > 100) model.shift();
    };
    for (let i = 0; i < 5000; i++) {
      remember(`r${i}`, `p${i}`);
      if (i % 7 === 0 && i >= 50) remember(`r${i - 50}`, `again${i}`); // back to the newest end
    }
    const expected = new Map(model);
    for (let i = 0; i < 5000; i++) expect([i, affinity.recall(`r${i}`)]).toEqual([i, expected.get(`r${i}`)]);
  });

  it('never calls a change listener: no other instance changes its records', async () => {
    const records = new MemoryStore().records<number>('breaker');
    const seen: string[] = [];
    records.onChange((key) => seen.push(key));
    await records.update('k', () => 1);
    expect(seen).toEqual([]);
  });

  it.each<[string, unknown, string]>([
    ['null options', null, 'options'],
    ['maxAffinityEntries: 0', { maxAffinityEntries: 0 }, 'maxAffinityEntries'],
    ['now: 5', { now: 5 }, 'now'],
  ])('rejects %s, naming the option', (_, options, option) => {
    expect(() => new MemoryStore(options as never)).toThrow(expect.objectContaining({ name: 'InvalidOptionError', option }));
  });
});
