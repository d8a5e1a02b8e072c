/** The 429 of a refused request: which limit, when to come back, and OpenAI's x-ratelimit-* headers. */
import { refusal, resetText } from '../../../lib/limits/refusal.js';

describe('resetText (OpenAI duration format)', () => {
  it.each<[number, string]>([
    [0, '0ms'],
    [250, '250ms'],
    [999.2, '1s'], // rounded up: never earlier than it frees
    [1000, '1s'],
    [1500, '1.5s'],
    [20_345, '20.345s'],
    [59_999, '59.999s'],
    [60_000, '1m0s'],
    [61_500, '1m1.5s'],
  ])('%d ms → %s', (ms, text) => {
    expect(resetText(ms)).toBe(text);
  });
});

describe('refusal', () => {
  it('names the request limit, waits until it frees a place, and sends the request headers only', () => {
    const error = refusal({ allowed: false, requests: { limit: 10, remaining: 0, resetMs: 20_300 } });
    expect(error.status).toBe(429);
    expect(error.body.error).toEqual({
      message: 'Rate limit reached for requests per minute (RPM): limit 10. Please try again in 20.3s.',
      type: 'requests',
      param: null,
      code: 'rate_limit_exceeded',
    });
    expect(error.headers).toEqual({
      'retry-after': '21',
      'x-ratelimit-limit-requests': '10',
      'x-ratelimit-remaining-requests': '0',
      'x-ratelimit-reset-requests': '20.3s',
    });
  });

  it('names the token limit when requests are left, with both trios', () => {
    const error = refusal({ allowed: false, requests: { limit: 10, remaining: 4, resetMs: 5000 }, tokens: { limit: 1000, remaining: 0, resetMs: 42_000 } });
    expect(error.body.error).toMatchObject({ type: 'tokens', code: 'rate_limit_exceeded', message: expect.stringContaining('tokens per minute (TPM): limit 1000') });
    expect(error.headers).toEqual({
      'retry-after': '42',
      'x-ratelimit-limit-requests': '10',
      'x-ratelimit-remaining-requests': '4',
      'x-ratelimit-reset-requests': '5s',
      'x-ratelimit-limit-tokens': '1000',
      'x-ratelimit-remaining-tokens': '0',
      'x-ratelimit-reset-tokens': '42s',
    });
  });

  it('waits for the later of two exhausted limits, and at least one second', () => {
    expect(refusal({ allowed: false, requests: { limit: 1, remaining: 0, resetMs: 3000 }, tokens: { limit: 5, remaining: 0, resetMs: 9000 } }).headers?.['retry-after']).toBe('9');
    expect(refusal({ allowed: false, requests: { limit: 1, remaining: 0, resetMs: 10 } }).headers?.['retry-after']).toBe('1');
  });
});
