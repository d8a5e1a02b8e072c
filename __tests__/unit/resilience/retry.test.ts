import { backoffMs, isProviderFailure, retryAfterMs } from '../../../lib/resilience/retry.js';

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

  it.each([
    [429, true],
    [500, true],
    [503, true],
    [400, false],
    [404, false],
    [200, false],
  ])('counts status %i against the provider: %s', (status, counts) => {
    expect(isProviderFailure(status)).toBe(counts);
  });
});
