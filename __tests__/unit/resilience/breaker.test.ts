import { CircuitBreakers, nextPairState } from '../../../lib/resilience/breaker.js';
import type { BreakerStateName } from '../../../lib/resilience/breaker.js';
import { MemoryStore } from '../../../lib/state/memory-store.js';
import { clock } from '../../kit/clock.js';

/** A store that says it is shared, whose locks the test hands out (another instance holds the rest). */
class SharedStub extends MemoryStore {
  readonly shared = true;
  locks: string[] = [];
  released: string[] = [];
  grant = true;
  override async tryLock(name: string): Promise<boolean> {
    this.locks.push(name);
    return this.grant;
  }
  override releaseLock(name: string): void {
    this.released.push(name);
  }
}

const options = { failureThreshold: 2, cooldownMs: 1000, maxCooldownMs: 3000 };

describe('nextPairState (pure)', () => {
  it('counts failures and opens at the threshold', () => {
    const one = nextPairState(undefined, 'failure', options, 0);
    expect(one).toEqual({ failures: 1, cooldownMs: 1000, openUntil: 0, probing: false });
    expect(nextPairState(one, 'failure', options, 5)).toEqual({ failures: 2, cooldownMs: 1000, openUntil: 1005, probing: false });
  });

  it('makes only the first attempt after the cooldown the probe, and only then', () => {
    const open = { failures: 2, cooldownMs: 1000, openUntil: 1000, probing: false };
    expect(nextPairState(open, 'attempt', options, 999)).toBe(open); // still cooling down
    const probing = nextPairState(open, 'attempt', options, 1000);
    expect(probing?.probing).toBe(true);
    expect(nextPairState(probing, 'attempt', options, 1001)).toBe(probing);
    expect(nextPairState(probing, 'release', options, 1001)?.probing).toBe(false);
  });

  it('leaves a pair that never failed unrecorded, and a clear closed pair unchanged', () => {
    expect(nextPairState(undefined, 'success', options, 0)).toBeUndefined();
    expect(nextPairState(undefined, 'attempt', options, 0)).toBeUndefined();
    const clear = { failures: 0, cooldownMs: 1000, openUntil: 0, probing: false };
    expect(nextPairState(clear, 'success', options, 0)).toBe(clear);
  });

  it('gives up a probe past its deadline (its instance went away): the next attempt takes it over', () => {
    const open = { failures: 2, cooldownMs: 1000, openUntil: 1000, probing: false };
    const probing = nextPairState(open, 'attempt', options, 1000)!;
    expect(probing).toEqual({ ...open, probing: true, probeUntil: 2000 }); // one cooldown
    expect(nextPairState(probing, 'attempt', options, 1999)).toBe(probing);
    expect(nextPairState(probing, 'attempt', options, 2000)).toEqual({ ...open, probing: true, probeUntil: 3000 });
    expect(nextPairState(probing, 'release', options, 1500)).toEqual(open); // no deadline left behind
    expect(nextPairState(probing, 'failure', options, 1500)).toEqual({ failures: 2, cooldownMs: 2000, openUntil: 3500, probing: false });
  });

  it('closes on success and resets the cooldown', () => {
    const probing = { failures: 2, cooldownMs: 2000, openUntil: 10, probing: true };
    expect(nextPairState(probing, 'success', options, 20)).toEqual({ failures: 0, cooldownMs: 1000, openUntil: 0, probing: false });
  });
});

describe('CircuitBreakers', () => {
  it('tells every state name once as it changes, half-open included (a cooldown that ran out has no event of its own)', () => {
    const time = clock();
    const told: BreakerStateName[] = [];
    const breakers = new CircuitBreakers({ failureThreshold: 1, cooldownMs: 100, maxCooldownMs: 1000 }, time.now, (_provider, _model, state) => told.push(state));
    breakers.record(1, 'm', 'failure'); // opens
    time.advance(200); // the cooldown ran out: half-open
    breakers.record(1, 'm', 'attempt'); // the probe
    breakers.record(1, 'm', 'failure'); // it failed: open again, a longer cooldown
    time.advance(2000);
    breakers.record(1, 'm', 'attempt');
    breakers.record(1, 'm', 'success');
    expect(told).toEqual(['open', 'half_open', 'open', 'half_open', 'closed']);
  });

  it('opens after failureThreshold consecutive failures and lets one half-open probe through', () => {
    const time = clock();
    const breakers = new CircuitBreakers(options, time.now);
    breakers.record(1, 'm', 'failure');
    expect(breakers.availableAt(1, 'm')).toBe(0);
    breakers.record(1, 'm', 'failure');
    expect(breakers.availableAt(1, 'm')).toBe(time.now() + 1000);
    time.advance(1000);
    expect(breakers.availableAt(1, 'm')).toBe(0);
    expect(breakers.record(1, 'm', 'attempt')).toBe(true); // this attempt is the probe
    expect(breakers.availableAt(1, 'm')).toBeGreaterThan(0); // only one probe at a time
    expect(breakers.record(1, 'm', 'attempt')).toBe(false);
    breakers.record(1, 'm', 'success');
    expect(breakers.availableAt(1, 'm')).toBe(0);
    expect(breakers.report()[0]).toMatchObject({ state: 'closed', consecutive_failures: 0 });
  });

  it('doubles the cooldown after a failed probe, up to maxCooldownMs', () => {
    const time = clock();
    const breakers = new CircuitBreakers(options, time.now);
    breakers.record('p', 'm', 'failure');
    breakers.record('p', 'm', 'failure');
    const cooldowns: number[] = [];
    for (let i = 0; i < 3; i++) {
      time.advance(breakers.availableAt('p', 'm') - time.now());
      breakers.record('p', 'm', 'attempt');
      breakers.record('p', 'm', 'failure');
      cooldowns.push(breakers.availableAt('p', 'm') - time.now());
    }
    expect(cooldowns).toEqual([2000, 3000, 3000]);
    expect(breakers.report()[0].state).toBe('open');
  });

  it('lets the next probe through once a probe is released', () => {
    const time = clock();
    const breakers = new CircuitBreakers(options, time.now);
    breakers.record(1, 'm', 'failure');
    breakers.record(1, 'm', 'failure');
    time.advance(1000);
    breakers.record(1, 'm', 'attempt');
    expect(breakers.availableAt(1, 'm')).toBeGreaterThan(0);
    breakers.record(1, 'm', 'release'); // e.g. the client left mid-probe
    expect(breakers.availableAt(1, 'm')).toBe(0);
  });

  it('tells a listener of every change of state name', () => {
    const time = clock();
    const changes: [string | number, string, BreakerStateName][] = [];
    const breakers = new CircuitBreakers(options, time.now, (id, model, state) => changes.push([id, model, state]));
    breakers.record(1, 'm', 'failure');
    breakers.record(1, 'm', 'failure');
    time.advance(1000);
    breakers.record(1, 'm', 'attempt');
    breakers.record(1, 'm', 'success');
    expect(changes).toEqual([
      [1, 'm', 'open'],
      [1, 'm', 'half_open'], // the probe, after the cooldown ran out
      [1, 'm', 'closed'],
    ]);
  });

  it('lets a pair be used again once its probe is past the deadline', () => {
    const time = clock();
    const breakers = new CircuitBreakers(options, time.now);
    breakers.record(1, 'm', 'failure');
    breakers.record(1, 'm', 'failure');
    time.advance(1000);
    expect(breakers.record(1, 'm', 'attempt')).toBe(true);
    time.advance(999);
    expect(breakers.availableAt(1, 'm')).toBeGreaterThan(0);
    time.advance(1);
    expect(breakers.availableAt(1, 'm')).toBe(0);
    expect(breakers.record(1, 'm', 'attempt')).toBe(true);
  });

  it('with a shared store, claims the half-open probe with a lock for one cooldown, and releases it when the probe ends', async () => {
    const time = clock();
    const store = new SharedStub();
    const breakers = new CircuitBreakers(options, time.now, undefined, store);
    breakers.record(1, 'm', 'failure');
    expect(breakers.record(1, 'm', 'failure')).toBe(true); // not a claim: synchronous
    expect(store.locks).toEqual([]);
    time.advance(1000);
    const claim = breakers.record(1, 'm', 'attempt');
    expect(claim).toBeInstanceOf(Promise);
    expect(breakers.availableAt(1, 'm')).toBeGreaterThan(0); // this instance's other requests wait at once
    expect(breakers.record(1, 'm', 'attempt')).toBe(false); // and do not claim again
    await expect(claim).resolves.toBe(true);
    expect(store.locks).toEqual(['breaker-probe:1\u0000m']);
    breakers.record(1, 'm', 'success');
    expect(store.released).toEqual(['breaker-probe:1\u0000m']);
    breakers.record(1, 'm', 'success');
    expect(store.released).toHaveLength(1); // only a lock this instance holds
  });

  it('with a shared store, a lost claim leaves the pair marked as probing (another instance probes it)', async () => {
    const time = clock();
    const store = new SharedStub();
    store.grant = false;
    const breakers = new CircuitBreakers(options, time.now, undefined, store);
    breakers.record(1, 'm', 'failure');
    breakers.record(1, 'm', 'failure');
    time.advance(1000);
    await expect(breakers.record(1, 'm', 'attempt')).resolves.toBe(false);
    expect(breakers.availableAt(1, 'm')).toBe(time.now() + 1);
    breakers.record(1, 'm', 'release');
    expect(store.released).toEqual([]); // not ours to release
  });
});
