/**
 * Whom a request counts against. By default: the identity the host's `apiKeys` predicate gave the
 * client, else its API key, when `apiKeys` is set (a checked key cannot be made up to dodge the
 * limit); else the client IP. Every key is hashed before it reaches the store: neither an API key
 * nor any other client-chosen text is written raw.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { bearerToken } from '../http/keys.js';
import { requestState } from '../http/request-state.js';

export interface ClientKey {
  /** What `limits.forKey` sees. */
  raw: string;
  /** What the store sees: the kind and the raw key, hashed, so two kinds never share a window. */
  hashed: string;
}

export type KeyKind = 'client' | 'key' | 'ip' | 'custom';

export function hashKey(kind: KeyKind, raw: string): ClientKey {
  return { raw, hashed: createHash('sha256').update(`${kind}\u0000${raw}`).digest('base64url') };
}

function apiKeyOf(req: IncomingMessage): string | undefined {
  const bearer = bearerToken(req);
  if (bearer !== undefined) return bearer;
  const header = req.headers['x-api-key']; // Anthropic's clients send their key here
  return typeof header === 'string' && header !== '' ? header : undefined;
}

/** The client IP as Express sees it (`trust proxy` applies), else the socket's peer. */
function ipOf(req: IncomingMessage): string {
  const ip = (req as IncomingMessage & { ip?: unknown }).ip;
  return typeof ip === 'string' && ip !== '' ? ip : (req.socket.remoteAddress ?? 'unknown');
}

export function defaultClientKey(req: IncomingMessage, byApiKey: boolean): ClientKey {
  if (byApiKey) {
    const identity = requestState(req).client; // the name the apiKeys predicate gave the caller
    if (identity !== undefined && identity !== '') return hashKey('client', identity);
    const key = apiKeyOf(req);
    if (key !== undefined) return hashKey('key', key);
  }
  return hashKey('ip', ipOf(req));
}
