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

/** Copies the upstream's response headers that are safe to pass on. */
export function copyResponseHeaders(res: ServerResponse, headers: Record<string, string | string[] | undefined>): void {
  const connection = headers.connection;
  const named = typeof connection === 'string' ? connection.toLowerCase().split(',').map((token) => token.trim()) : [];
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || DROPPED.has(name) || named.includes(name)) {
      continue;
    }
    try {
      res.setHeader(name, value);
    } catch {
      // Node refuses values with CR/LF or invalid characters: such a header is not passed on.
    }
  }
  const upstreamId = headers['x-request-id'];
  if (typeof upstreamId === 'string') {
    try {
      res.setHeader('x-upstream-request-id', upstreamId);
    } catch {
      // as above
    }
  }
}
