/** A plain node:http client for the fault suites, remembering every body the proxy sent back. */
import http from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** The parsed body when it is JSON, else undefined. */
  json: Record<string, any> | undefined;
  ms: number;
}

/** Every body the proxy answered with in this test file, for the leak scan. */
export const seenBodies: string[] = [];

/** Sends one request and reads the whole answer (never rejects on a reset: status 0 instead). */
export function send(url: string, init: { method?: string; body?: string | Buffer; headers?: Record<string, string>; path?: string } = {}): Promise<Answer> {
  const started = performance.now();
  return new Promise((resolve) => {
    const body = init.body;
    const headers: Record<string, string> = { ...init.headers };
    if (body !== undefined && headers['content-length'] === undefined) headers['content-length'] = String(Buffer.byteLength(body));
    // `path` is sent as is (a URL string would normalise `..` away).
    const req = http.request(url, { method: init.method ?? 'POST', headers, agent: false, ...(init.path === undefined ? {} : { path: init.path }) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (data: Buffer) => chunks.push(data));
      const done = () => {
        const text = Buffer.concat(chunks).toString('utf8');
        seenBodies.push(text);
        let json: Record<string, any> | undefined;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json, ms: performance.now() - started });
      };
      res.on('end', done);
      res.on('error', done);
      res.on('aborted', done);
    });
    req.on('error', () => resolve({ status: 0, headers: {}, text: '', json: undefined, ms: performance.now() - started }));
    req.end(body);
  });
}

/** POSTs a JSON value (or raw string) with `content-type: application/json`. */
export const postJson = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  send(url, { body: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } });

/** The `error.code` of each SSE `data:` event that carries an error. */
export function sseErrorCodes(text: string): string[] {
  const codes: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (!line.startsWith('data: ')) continue;
    try {
      const parsed = JSON.parse(line.slice(6));
      if (parsed?.error?.code) codes.push(parsed.error.code);
    } catch {
      // not JSON: not ours
    }
  }
  return codes;
}

/** The OpenAI error shape, loosely (message is any string). */
export const openAiErrorShape = (code: string, type = 'invalid_request_error', param: string | null = null) => ({
  error: { message: expect.any(String), type, param, code },
});

/** Strings found in any log entry or body that contains one of `needles`. */
export function leaks(entries: Record<string, unknown>[], bodies: string[], needles: string[]): string[] {
  const found: string[] = [];
  const texts = [...entries.map((entry) => JSON.stringify(entry)), ...bodies];
  for (const text of texts) {
    for (const needle of needles) {
      if (text.includes(needle)) found.push(`${needle} in ${text.slice(0, 200)}`);
    }
  }
  return found;
}

export async function waitFor(check: () => boolean, ms = 2000): Promise<boolean> {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return check();
}
