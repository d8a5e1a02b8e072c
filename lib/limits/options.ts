/** The `limits` option: its public type and the resolved config, checked once at construction. */
import type { IncomingMessage } from 'node:http';
import type { Request } from 'express';
import { InvalidOptionError } from '../errors/errors.js';
import type { RateLimits } from '../state/types.js';
import { positiveInteger } from '../util/option-checks.js';

export interface RateLimitOptions {
  /** Requests admitted per key over a sliding 60 s window. Default: not limited. */
  requestsPerMinute?: number | undefined;
  /**
   * Input + output tokens per key over a sliding 60 s window, charged from each answer's usage once
   * it is over; a request is admitted while the key's window is under the limit. Default: not limited.
   */
  tokensPerMinute?: number | undefined;
  /**
   * The key a request counts against; `undefined` leaves the request unlimited. Default: the
   * client's identity or API key when `apiKeys` is set, else the client IP (`req.ip`, which
   * follows Express's `trust proxy`). Keys are hashed (SHA-256) before they reach the store.
   */
  key?: ((req: Request) => string | undefined) | undefined;
  /**
   * Limits of one key (as `key` or the default gave it, before hashing), e.g. a customer's tier:
   * they replace the top-level ones for that key (`{}`: not limited); `undefined` keeps them.
   */
  forKey?: ((key: string) => RateLimits | undefined) | undefined;
  /**
   * When the store cannot count in time (Redis down or slower than its `timeoutMs`): `false`
   * admits the request (fail open); `true` answers `503 rate_limiter_unavailable`. Default false.
   */
  failClosed?: boolean | undefined;
}

export interface ResolvedLimits {
  defaults: RateLimits;
  /** Called with the router's requests, which are Express's `Request`s. */
  key: ((req: IncomingMessage) => string | undefined) | undefined;
  forKey: ((key: string) => RateLimits | undefined) | undefined;
  failClosed: boolean;
  /** A token limit may apply, so answers must be read for their usage. */
  readsTokens: boolean;
}

function optionalFunction<T>(value: unknown, option: string, expected: string): T | undefined {
  if (value !== undefined && typeof value !== 'function') throw new InvalidOptionError(option, `must be a function ${expected}`);
  return value as T | undefined;
}

/** Undefined when `limits` is unset: the route chain then has no rate-limit step at all. */
export function resolveLimits(value: RateLimitOptions | undefined): ResolvedLimits | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidOptionError('limits', 'must be an object: { requestsPerMinute?, tokensPerMinute?, key?, forKey?, failClosed? }');
  }
  const requestsPerMinute = value.requestsPerMinute === undefined ? undefined : positiveInteger(value.requestsPerMinute, 'limits.requestsPerMinute', 0);
  const tokensPerMinute = value.tokensPerMinute === undefined ? undefined : positiveInteger(value.tokensPerMinute, 'limits.tokensPerMinute', 0);
  if (value.failClosed !== undefined && typeof value.failClosed !== 'boolean') throw new InvalidOptionError('limits.failClosed', 'must be a boolean');
  const forKey = optionalFunction<ResolvedLimits['forKey']>(value.forKey, 'limits.forKey', '(key) => ({ requestsPerMinute?, tokensPerMinute? }) | undefined');
  const defaults: RateLimits = {};
  if (requestsPerMinute !== undefined) defaults.requestsPerMinute = requestsPerMinute;
  if (tokensPerMinute !== undefined) defaults.tokensPerMinute = tokensPerMinute;
  return {
    defaults,
    key: optionalFunction(value.key, 'limits.key', '(req) => string | undefined'),
    forKey,
    failClosed: value.failClosed ?? false,
    readsTokens: tokensPerMinute !== undefined || forKey !== undefined,
  };
}
