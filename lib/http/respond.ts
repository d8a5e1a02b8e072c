/** Writing the proxy's own answers. */
import type { ServerResponse } from 'node:http';

/** Sends a JSON body, unless the response has already started (then it just ends it). */
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
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('content-length', Buffer.byteLength(payload));
  res.end(payload);
}
