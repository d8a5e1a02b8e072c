/** Writing the proxy's own answers. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { existingRequestState } from './request-state.js';

/** True while the client is still sending a request body nobody has read to its end. */
export function stillSending(res: ServerResponse): boolean {
  const req = res.req as IncomingMessage | undefined;
  if (req === undefined || req.complete || existingRequestState(req)?.bodyRead === true) return false;
  // A request without a body is complete once parsed, but a handler that answers in the same tick
  // runs before Node marks it so.
  const { headers } = req;
  return headers['transfer-encoding'] !== undefined || (headers['content-length'] !== undefined && headers['content-length'] !== '0');
}

/**
 * Sends a JSON body, unless the response has already started (then it just ends it). An answer
 * given while the client is still sending (a 413, a bad key, a 415) closes the connection, so an
 * endless upload is not read just to be thrown away.
 */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers?: Record<string, string>): void {
  if (res.headersSent) {
    if (!res.writableEnded) res.end();
    return;
  }
  const payload = JSON.stringify(body);
  res.statusCode = status;
  if (headers) {
    for (const name in headers) res.setHeader(name, headers[name]);
  }
  if (stillSending(res)) res.setHeader('connection', 'close');
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('content-length', Buffer.byteLength(payload));
  res.end(payload);
}
