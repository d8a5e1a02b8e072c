/**
 * The answers of the rate limiter: a `429 rate_limit_exceeded` with `retry-after` and OpenAI's
 * `x-ratelimit-*` headers (the `-tokens` trio when a token limit applies), and the `503` of
 * `failClosed` when the store cannot count.
 */
import { HttpError, openAiError } from '../errors/openai-error.js';
import type { RateLimitDecision, RateLimitUsage } from '../state/types.js';

/** OpenAI's duration format for `x-ratelimit-reset-*`: `250ms`, `1.5s`, `1m0s`. */
export function resetText(ms: number): string {
  const whole = Math.max(0, Math.ceil(ms));
  if (whole < 1000) return `${whole}ms`;
  const seconds = whole / 1000;
  if (seconds < 60) return `${Number(seconds.toFixed(3))}s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes}m${Number((seconds - minutes * 60).toFixed(3))}s`;
}

function addHeaders(headers: Record<string, string>, kind: 'requests' | 'tokens', usage: RateLimitUsage | undefined): void {
  if (!usage) return;
  headers[`x-ratelimit-limit-${kind}`] = String(usage.limit);
  headers[`x-ratelimit-remaining-${kind}`] = String(usage.remaining);
  headers[`x-ratelimit-reset-${kind}`] = resetText(usage.resetMs);
}

/** A refused decision as the client gets it: which limit, when to come back. */
export function refusal(decision: Extract<RateLimitDecision, { allowed: boolean }>): HttpError {
  const { requests, tokens } = decision;
  // Refused for a limit exactly when nothing of it is left; with both, the later reset counts.
  const exhausted = [requests?.remaining === 0 ? requests : undefined, tokens?.remaining === 0 ? tokens : undefined];
  const waitMs = Math.max(0, ...exhausted.map((usage) => usage?.resetMs ?? 0));
  const headers: Record<string, string> = { 'retry-after': String(Math.max(1, Math.ceil(waitMs / 1000))) };
  addHeaders(headers, 'requests', requests);
  addHeaders(headers, 'tokens', tokens);
  const [byRequests, byTokens] = exhausted;
  const what = byRequests ? `requests per minute (RPM): limit ${byRequests.limit}` : `tokens per minute (TPM): limit ${byTokens?.limit ?? tokens?.limit}`;
  const message = `Rate limit reached for ${what}. Please try again in ${resetText(waitMs)}.`;
  return new HttpError(429, openAiError(message, byRequests ? 'requests' : 'tokens', 'rate_limit_exceeded'), headers);
}

/** `failClosed: true` while the store cannot count in time. */
export const LIMITER_UNAVAILABLE = new HttpError(
  503,
  openAiError('Rate limits cannot be checked right now; please try again shortly', 'server_error', 'rate_limiter_unavailable'),
  { 'retry-after': '1' },
);

/** A `key` or `forKey` that threw, or limits that are not integers >= 1: the host's bug, answered like a failed key check. */
export const LIMITER_FAILED = new HttpError(500, openAiError('Could not apply the rate limit', 'server_error', 'internal_error'));
