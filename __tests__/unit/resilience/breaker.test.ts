import { CircuitBreakers } from '../../../lib/resilience/breaker.js';
import { backoffMs, retryAfterMs } from '../../../lib/resilience/retry.js';

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

const options = { failureThreshold: 2, cooldownMs: 1000, maxCooldownMs: 3000, healthStaleMs: 10_000 };

describe('CircuitBreakers', () => {
  it('opens after failureThreshold consecutive failures and lets one half-open probe through', () => {
    const time = clock();
    const breakers = new CircuitBreakers(options, time.now);
    breakers.recordFailure(1, 'm');
    expect(breakers.availableAt(1, 'm')).toBe(0);
    breakers.recordFailure(1, 'm');
    expect(breakers.availableAt(1, 'm')).toBe(time.now() + 1000);
    time.advance(1000);
    expect(breakers.availableAt(1, 'm')).toBe(0);
    breakers.onAttempt(1, 'm');
    expect(breakers.availableAt(1, 'm')).toBeGreaterThan(0); // only one probe at a time
    breakers.recordSuccess(1, 'm');
    expect(breakers.availableAt(1, 'm')).toBe(0);
    expect(breakers.report()[0]).toMatchObject({ state: 'closed', consecutive_failures: 0 });
  });

  it('doubles the cooldown after a failed probe, up to maxCooldownMs', () => {
    const time = clock();
    const breakers = new CircuitBreakers(options, time.now);
    breakers.recordFailure('p', 'm');
    breakers.recordFailure('p', 'm');
    const cooldowns: number[] = [];
    for (let i = 0; i < 3; i++) {
      time.advance(breakers.availableAt('p', 'm') - time.now());
      breakers.onAttempt('p', 'm');
      breakers.recordFailure('p', 'm');
      cooldowns.push(breakers.availableAt('p', 'm') - time.now());
    }
    expect(cooldowns).toEqual([2000, 3000, 3000]);
    expect(breakers.report()[0].state).toBe('open');
  });

  it('skips pairs marked unhealthy until a later check, a success, or the mark goes stale', () => {
    const time = clock();
    const breakers = new CircuitBreakers(options, time.now);
    breakers.markHealth(1, 'm', false);
    expect(breakers.availableAt(1, 'm')).toBeGreaterThan(time.now());
    breakers.markHealth(1, 'm', true);
    expect(breakers.availableAt(1, 'm')).toBe(0);
    breakers.markHealth(1, 'm', false);
    breakers.recordSuccess(1, 'm');
    expect(breakers.availableAt(1, 'm')).toBe(0);
    breakers.markHealth(1, 'm', false);
    time.advance(10_001);
    expect(breakers.availableAt(1, 'm')).toBe(0);
  });
});

describe('retry timing', () => {
  it('reads retry-after as seconds or an HTTP date', () => {
    expect(retryAfterMs('2')).toBe(2000);
    expect(retryAfterMs('0.5')).toBe(500);
    expect(retryAfterMs(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
    expect(retryAfterMs('soon')).toBeUndefined();
    expect(retryAfterMs(undefined)).toBeUndefined();
  });

  it('uses full jitter under an exponential ceiling capped at maxDelayMs', () => {
    const opts = { baseDelayMs: 100, maxDelayMs: 1000 };
    expect(backoffMs(1, opts, () => 0.999)).toBe(99);
    expect(backoffMs(3, opts, () => 0.999)).toBe(399);
    expect(backoffMs(10, opts, () => 0.999)).toBe(999);
    expect(backoffMs(3, opts, () => 0)).toBe(0);
  });
});

describe('CircuitBreakers half-open probes that end without a verdict', () => {
  it('lets the next probe through once a probe is released', () => {
    const time = clock();
    const breakers = new CircuitBreakers(options, time.now);
    breakers.recordFailure(1, 'm');
    breakers.recordFailure(1, 'm');
    time.advance(1000);
    breakers.onAttempt(1, 'm');
    expect(breakers.availableAt(1, 'm')).toBeGreaterThan(0);
    breakers.releaseProbe(1, 'm'); // e.g. the client left mid-probe
    expect(breakers.availableAt(1, 'm')).toBe(0);
  });
});
