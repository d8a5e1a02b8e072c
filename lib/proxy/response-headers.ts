/** Which upstream response headers reach the client. */
import type { ServerResponse } from 'node:http';

/**
 * Upstream response headers the client never sees: hop-by-hop headers, cookies the host did not
 * set, and the ones the proxy recomputes (length, request id, timing). `content-encoding` is not
 * one: the transport removes it when it decoded the body, so when it is still there it describes
 * the bytes the client gets.
 */
const DROPPED = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'set-cookie',
  'set-cookie2',
  'content-length',
  'x-request-id',
  'server-timing',
  'date',
]);

/** `Connection` values that name no other header: the usual ones, so the common case parses nothing. */
const PLAIN_CONNECTION = new Set(['keep-alive', 'close', 'Keep-Alive', 'Close']);

/** The header names a `Connection` value lists (hop-by-hop for this connection only). */
function connectionTokens(connection: string): string[] {
  return connection
    .toLowerCase()
    .split(',')
    .map((token) => token.trim());
}

/** Sets one header; Node refuses values with CR/LF or invalid characters, and such a header is not passed on. */
function trySetHeader(res: ServerResponse, name: string, value: string | string[]): void {
  try {
    res.setHeader(name, value);
  } catch {
    // not passed on
  }
}

/** Copies the upstream's response headers that are safe to pass on. */
export function copyResponseHeaders(res: ServerResponse, headers: Record<string, string | string[] | undefined>): void {
  const connection = headers.connection;
  const named = typeof connection === 'string' && !PLAIN_CONNECTION.has(connection) ? connectionTokens(connection) : undefined;
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || DROPPED.has(name) || (named !== undefined && named.includes(name))) continue;
    trySetHeader(res, name, value);
  }
  const upstreamId = headers['x-request-id'];
  if (typeof upstreamId === 'string') trySetHeader(res, 'x-upstream-request-id', upstreamId);
}
