/** The failover policy on its own: decisions and breaker bookkeeping, with an injected clock and random. */
import { CircuitBreakers } from '../../../lib/resilience/breaker.js';
import { FailoverPolicy } from '../../../lib/resilience/failover.js';
import type { FailoverState } from '../../../lib/resilience/failover.js';
import { HealthMarks } from '../../../lib/resilience/health-marks.js';
import type { RetryOptions } from '../../../lib/resilience/retry.js';
import { resolveProviders } from '../../../lib/registry/validate.js';
import { WeightedRoundRobin } from '../../../lib/registry/weighted-round-robin.js';
import { MemoryStore } from '../../../lib/state/memory-store.js';
import { clock } from '../../kit/clock.js';

/** A store that says it is shared; `grant` says whether this instance wins a probe's lock. */
class SharedStub extends MemoryStore {
  readonly shared = true;
  grant = true;
  override tryLock(): Promise<boolean> {
    return Promise.resolve(this.grant);
  }
}

/** Breakers on a shared store, with a, b and c open and their cooldowns over. */
function halfOpen(retry: Partial<RetryOptions> = {}) {
  const time = clock();
  const store = new SharedStub();
  const breakers = new CircuitBreakers({ failureThreshold: 1, cooldownMs: 1000, maxCooldownMs: 4000 }, time.now, undefined, store);
  const health = new HealthMarks(60_000, time.now, store);
  const policy = new FailoverPolicy({ retry: { ...RETRY, ...retry }, breakers, health, selector: new WeightedRoundRobin(), now: time.now });
  return { time, store, breakers, health, policy };
}

const [a, b, c] = resolveProviders(['a', 'b', 'c'].map((key, i) => ({ id: i + 1, key, baseUrl: `http://${key}.test/v1`, models: { m: `${key}-m` } })));
const RETRY: RetryOptions = { maxAttempts: 3, onStatus: [429, 502, 503, 504], sameProvider: false, baseDelayMs: 100, maxDelayMs: 1000 };

function setUp(retry: Partial<RetryOptions> = {}, random = () => 0.5) {
  const time = clock();
  const breakers = new CircuitBreakers({ failureThreshold: 2, cooldownMs: 1000, maxCooldownMs: 4000 }, time.now);
  const health = new HealthMarks(60_000, time.now);
  const policy = new FailoverPolicy({ retry: { ...RETRY, ...retry }, breakers, health, selector: new WeightedRoundRobin(), random, now: time.now });
  return { time, breakers, health, policy };
}

/** Runs attempts with the given outcomes until the policy delivers; returns the providers tried and the decisions. */
function run(policy: FailoverPolicy, state: FailoverState, outcomes: Parameters<FailoverPolicy['decide']>[0][]) {
  const tried: string[] = [];
  const decisions: string[] = [];
  for (let attempt = 1; attempt <= outcomes.length; attempt++) {
    policy.attempting(state);
    tried.push(state.provider.key);
    const decision = policy.decide(outcomes[attempt - 1], attempt, state);
    decisions.push(decision.action === 'wait' ? `wait ${decision.ms}` : decision.action);
    if (decision.action === 'deliver') break;
  }
  policy.finish(state);
  return { tried, decisions };
}

describe('FailoverPolicy', () => {
  it('starts on a candidate, or gives nothing when no provider serves the model', () => {
    const { policy } = setUp();
    expect(policy.start('m', [a, b])?.provider).toBeDefined();
    expect(policy.start('m', [])).toBeUndefined();
  });

  it('delivers a success or a client error at once, and books a success', () => {
    const { policy, breakers } = setUp();
    breakers.record(a.id, 'm', 'failure');
    const state = policy.start('m', [a])!;
    expect(run(policy, state, [{ type: 'answer', status: 400 }]).decisions).toEqual(['deliver']);
    expect(breakers.report()[0]).toMatchObject({ consecutive_failures: 0 });
  });

  it('moves on a retryable status or a network failure to an untried provider, at once', () => {
    const { policy } = setUp();
    const state = policy.start('m', [a, b, c])!;
    const { tried, decisions } = run(policy, state, [
      { type: 'answer', status: 503 },
      { type: 'error', kind: 'connection' },
      { type: 'answer', status: 200 },
    ]);
    expect(new Set(tried).size).toBe(3);
    expect(decisions).toEqual(['switch', 'switch', 'deliver']);
  });

  it('stops at maxAttempts and delivers the last outcome', () => {
    const { policy } = setUp({ maxAttempts: 2 });
    const state = policy.start('m', [a, b, c])!;
    expect(run(policy, state, [{ type: 'error', kind: 'timeout' }, { type: 'error', kind: 'timeout' }, { type: 'answer', status: 200 }]).decisions).toEqual(['switch', 'deliver']);
  });

  it('does not retry a request error (the provider is not at fault) and books nothing', () => {
    const { policy, breakers } = setUp();
    const state = policy.start('m', [a, b])!;
    expect(run(policy, state, [{ type: 'error', kind: 'request' }]).decisions).toEqual(['deliver']);
    expect(breakers.report()).toEqual([]);
  });

  it('waits retry-after (or a jittered backoff) before the same provider only with sameProvider, within maxDelayMs', () => {
    const { policy } = setUp({ sameProvider: true }, () => 0.5);
    const state = policy.start('m', [a])!;
    expect(run(policy, state, [{ type: 'answer', status: 429, retryAfter: '0.25' }, { type: 'answer', status: 503 }, { type: 'answer', status: 200 }]).decisions).toEqual([
      'wait 250',
      'wait 100', // full jitter: 0.5 × min(1000, 100 × 2^(2-1))
      'deliver',
    ]);
    const longWait = policy.start('m', [a])!;
    expect(run(policy, longWait, [{ type: 'answer', status: 429, retryAfter: '5' }]).decisions).toEqual(['deliver']);
    const { policy: strict } = setUp();
    expect(run(strict, strict.start('m', [a])!, [{ type: 'answer', status: 429 }]).decisions).toEqual(['deliver']);
  });

  it('opens the breaker after repeated failures and steers new requests away until the cooldown ends', () => {
    const { policy, time } = setUp({ maxAttempts: 1 });
    for (let i = 0; i < 2; i++) {
      const state = policy.start('m', [a])!;
      run(policy, state, [{ type: 'answer', status: 500 }]);
    }
    const picks = Array.from({ length: 4 }, () => policy.start('m', [a, b])!.provider.key);
    expect(picks).toEqual(['b', 'b', 'b', 'b']);
    time.advance(1000);
    const probe = policy.start('m', [a, b])!;
    expect(probe.provider.key).toBe('a'); // a's turn in the rotation, cooldown over
    policy.attempting(probe);
    expect(probe.probe).toBe(a);
    expect(policy.start('m', [a, b])!.provider.key).toBe('b'); // one probe at a time
    policy.settle(probe, 'success');
    expect(probe.probe).toBeUndefined();
  });

  it('releases a half-open probe that ended without a verdict', () => {
    const { policy, breakers, time } = setUp({ maxAttempts: 1 });
    breakers.record(a.id, 'm', 'failure');
    breakers.record(a.id, 'm', 'failure');
    time.advance(1000);
    const state = policy.start('m', [a])!;
    policy.attempting(state);
    expect(breakers.availableAt(a.id, 'm')).toBeGreaterThan(0);
    policy.finish(state); // e.g. the client left
    expect(breakers.availableAt(a.id, 'm')).toBe(0);
  });

  it('avoids unhealthy pairs, falls back to the one that recovers soonest, and a success clears the mark', () => {
    const { policy, health, breakers } = setUp();
    health.mark(a.id, 'm', false);
    expect(policy.start('m', [a, b])!.provider.key).toBe('b');
    breakers.record(b.id, 'm', 'failure');
    breakers.record(b.id, 'm', 'failure'); // b cooling down, a unhealthy: b recovers sooner
    expect(policy.start('m', [a, b])!.provider.key).toBe('b');
    const state = policy.start('m', [a])!;
    run(policy, state, [{ type: 'answer', status: 200 }]);
    expect(health.isUnhealthy(a.id, 'm')).toBe(false);
  });

  it('stays synchronous on a shared store but for claiming a half-open probe', async () => {
    const { policy, breakers, time, store } = halfOpen();
    const closed = policy.start('m', [a, b])!;
    expect(policy.attempting(closed)).toBeUndefined(); // the common path: nothing to await
    breakers.record(a.id, 'm', 'failure');
    time.advance(1000);
    const probe = policy.start('m', [a])!;
    const claim = policy.attempting(probe);
    expect(claim).toBeInstanceOf(Promise);
    await claim;
    expect(probe.provider).toBe(a);
    expect(probe.probe).toBe(a);
    expect([...probe.tried]).toEqual([a]);
    store.grant = false; // (a's probe is live now: nothing more to claim for it)
    expect(policy.attempting(policy.start('m', [a])!)).toBeUndefined();
  });

  it('moves a request whose probe claim another instance won to a closed provider, never sending to the lost pair', async () => {
    const { policy, breakers, time, store } = halfOpen();
    store.grant = false;
    breakers.record(a.id, 'm', 'failure');
    time.advance(1000);
    const state = { ...policy.start('m', [a, b])!, provider: a }; // a's turn in the rotation, half-open
    await policy.attempting(state);
    expect(state.provider).toBe(b);
    expect([...state.tried]).toEqual([b]); // a was never sent to
    expect(state.probe).toBeUndefined();
    expect(breakers.availableAt(a.id, 'm')).toBe(time.now() + 1); // probing elsewhere: skipped here too
  });

  it('after lost claims and nothing usable, sends to the pair that recovers soonest, not as the probe (as when all cool down)', async () => {
    const { policy, breakers, time, store } = halfOpen();
    store.grant = false;
    breakers.record(a.id, 'm', 'failure');
    breakers.record(b.id, 'm', 'failure');
    time.advance(1000);
    breakers.record(c.id, 'm', 'failure'); // c open for one more cooldown
    const state = { ...policy.start('m', [a, b, c])!, provider: a };
    await policy.attempting(state); // a lost, then b lost, then a again: probing elsewhere, sooner than c
    expect(state.provider).toBe(a);
    expect([...state.tried]).toEqual([a]);
    expect(state.probe).toBeUndefined();
    expect(breakers.availableAt(b.id, 'm')).toBe(time.now() + 1);
  });
});
