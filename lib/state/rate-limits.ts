/** The limits both stores accept, checked on every `hit` (cheap) since they come from the caller. */
import type { RateLimits } from './types.js';

function limitOf(value: unknown, name: string): number {
  if (value === undefined) return 0;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new TypeError(`express-llm-proxy: rate limit \`${name}\` must be an integer >= 1 or absent`);
  }
  return value;
}

/** Both limits, 0 for "not counted"; throws a TypeError for anything else than an integer >= 1. */
export function limitsOf(limits: RateLimits): { requests: number; tokens: number } {
  return { requests: limitOf(limits?.requestsPerMinute, 'requestsPerMinute'), tokens: limitOf(limits?.tokensPerMinute, 'tokensPerMinute') };
}
