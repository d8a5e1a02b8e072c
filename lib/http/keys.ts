/** Bearer-key checks in constant time, for client keys and the admin key. */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/**
 * Compares in time independent of where the strings differ (hashing first makes the lengths
 * equal, so the length does not leak either).
 */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

/** The key of an `Authorization: Bearer <key>` header, or undefined. */
export function bearerToken(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return match ? match[1] : undefined;
}

/**
 * The client's key: its bearer token, else its `x-api-key` (Anthropic's clients, Claude Code with
 * `ANTHROPIC_API_KEY`, and `@ai-sdk/anthropic` send that one); undefined when it sent neither.
 */
export function clientKey(req: IncomingMessage): string | undefined {
  const bearer = bearerToken(req);
  if (bearer !== undefined) return bearer;
  const header = req.headers['x-api-key'];
  if (typeof header !== 'string') return undefined;
  const key = header.trim();
  return key.length > 0 && !/\s/.test(key) ? key : undefined;
}

/** True when `key` is one of `keys`; every entry is compared, so timing says nothing about which. */
export function keyInList(key: string, keys: readonly string[]): boolean {
  let found = false;
  for (const candidate of keys) {
    found = safeEqual(key, candidate) || found;
  }
  return found;
}
