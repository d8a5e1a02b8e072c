/** Retry policy: which answers move a request elsewhere, and how long a same-provider retry waits. */

export interface RetryOptions {
  /** Attempts in all, across providers and same-provider retries. Default 2. */
  maxAttempts: number;
  /** Upstream statuses that move the request to another provider. Default [429, 502, 503, 504, 529]. */
  onStatus: readonly number[];
  /** Retry the same provider after a backoff when no other is left. Default false. */
  sameProvider: boolean;
  /** Base of the exponential backoff with full jitter. Default 500 ms. */
  baseDelayMs: number;
  /** Longest wait taken; a longer `retry-after` is passed through instead. Default 10000 ms. */
  maxDelayMs: number;
}

/** `retry-after` in ms (seconds or an HTTP date), or undefined when absent or unreadable. */
export function retryAfterMs(value: string | string[] | undefined, now = Date.now()): number | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Full jitter: a random wait in [0, min(max, base * 2^(retry-1))]. */
export function backoffMs(retry: number, options: Pick<RetryOptions, 'baseDelayMs' | 'maxDelayMs'>, random = Math.random): number {
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** Math.max(0, retry - 1));
  return Math.floor(random() * ceiling);
}

/** Statuses that count against a provider's breaker. */
export function isProviderFailure(status: number): boolean {
  return status >= 500 || status === 429;
}
