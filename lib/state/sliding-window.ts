/**
 * Rate limits in one process, over a sliding window: exact (every admitted request and every
 * charge is kept with its time until it leaves the window), the same rules as the Redis script.
 */
import { limitsOf } from './rate-limits.js';
import type { RateLimitDecision, RateLimits, RateLimitUsage } from './types.js';
import { RATE_WINDOW_MS } from './types.js';

interface Window {
  /** Times of the admitted requests still in the window, ascending. */
  requests: number[];
  /** Charges still in the window, ascending by time, and their sum. */
  charges: { at: number; tokens: number }[];
  used: number;
}

/** Inserts keeping the order; `now` normally only grows, so this is a push. */
function insertSorted<T>(list: T[], item: T, time: (item: T) => number): void {
  let i = list.length;
  while (i > 0 && time(list[i - 1]!) > time(item)) i--;
  list.splice(i, 0, item);
}

export class SlidingWindows {
  readonly #windows = new Map<string, Window>();
  #calls = 0;

  constructor(private readonly windowMs = RATE_WINDOW_MS) {}

  hit(key: string, limits: RateLimits, now: number): RateLimitDecision {
    const { requests, tokens } = limitsOf(limits);
    const rpm = requests || undefined;
    const tpm = tokens || undefined;
    if (rpm === undefined && tpm === undefined) return { allowed: true };
    const window = this.#trimmed(key, now);
    const requestsOk = rpm === undefined || window.requests.length < rpm;
    const tokensOk = tpm === undefined || window.used < tpm;
    const allowed = requestsOk && tokensOk;
    if (allowed && rpm !== undefined) insertSorted(window.requests, now, (t) => t);
    const decision: RateLimitDecision = { allowed };
    if (rpm !== undefined) {
      const oldest = window.requests[0];
      decision.requests = {
        limit: rpm,
        remaining: Math.max(0, rpm - window.requests.length),
        resetMs: oldest === undefined ? 0 : oldest + this.windowMs - now,
      };
    }
    if (tpm !== undefined) decision.tokens = this.#tokenUsage(window, tpm, now);
    if (++this.#calls % 1000 === 0) this.#sweep(now); // bound the keys nobody hits any more
    return decision;
  }

  charge(key: string, tokens: number, now: number): void {
    if (!(tokens > 0) || !Number.isFinite(tokens)) return;
    const whole = Math.ceil(tokens); // as the Redis store counts them
    const window = this.#trimmed(key, now);
    insertSorted(window.charges, { at: now, tokens: whole }, (c) => c.at);
    window.used += whole;
  }

  #tokenUsage(window: Window, limit: number, now: number): RateLimitUsage {
    let resetAt = window.charges[0]?.at;
    if (window.used >= limit) {
      // Exhausted: admitted again once enough of the oldest charges left the window.
      let left = window.used;
      for (const charge of window.charges) {
        left -= charge.tokens;
        resetAt = charge.at;
        if (left < limit) break;
      }
    }
    return { limit, remaining: Math.max(0, limit - window.used), resetMs: resetAt === undefined ? 0 : resetAt + this.windowMs - now };
  }

  /** The key's window without the entries at or before `now - windowMs`. */
  #trimmed(key: string, now: number): Window {
    let window = this.#windows.get(key);
    if (!window) {
      window = { requests: [], charges: [], used: 0 };
      this.#windows.set(key, window);
      return window;
    }
    const edge = now - this.windowMs;
    let n = 0;
    while (n < window.requests.length && window.requests[n]! <= edge) n++;
    if (n > 0) window.requests.splice(0, n);
    n = 0;
    while (n < window.charges.length && window.charges[n]!.at <= edge) window.used -= window.charges[n++]!.tokens;
    if (n > 0) window.charges.splice(0, n);
    return window;
  }

  #sweep(now: number): void {
    for (const key of this.#windows.keys()) {
      const window = this.#trimmed(key, now);
      if (window.requests.length === 0 && window.charges.length === 0) this.#windows.delete(key);
    }
  }
}
