/** A raw node:http client that timestamps the response headers and every body read. */
import http from 'node:http';
import { performance } from 'node:perf_hooks';

export interface TimedRead {
  /** `performance.now()` when the read arrived. */
  at: number;
  text: string;
}

export interface TimedResponse {
  req: http.ClientRequest;
  /** `performance.now()` when the request was sent. */
  sentAt: number;
  /** Resolves with the response as soon as its status and headers are in. */
  headers: Promise<http.IncomingMessage & { headersAt: number }>;
  reads: TimedRead[];
  /** Resolves with the whole body when the response ends (or the socket closes). */
  done: Promise<string>;
}

/** POSTs JSON and records when the headers and every body read arrive. */
/** `encoding: 'latin1'` keeps compressed bytes intact (`Buffer.from(text, 'latin1')`). */
export function timedPost(url: string, body: unknown, headers: Record<string, string> = {}, encoding: BufferEncoding = 'utf8'): TimedResponse {
  const payload = typeof body === 'string' ? body : JSON.stringify(body);
  const reads: TimedRead[] = [];
  const sentAt = performance.now();
  const req = http.request(url, {
    method: 'POST',
    agent: false,
    headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)), ...headers },
  });
  req.on('error', () => {}); // tests that abort look at the outcome, not at this error
  let resolveDone: (body: string) => void = () => {};
  const done = new Promise<string>((resolve) => {
    resolveDone = resolve;
  });
  const headersPromise = new Promise<http.IncomingMessage & { headersAt: number }>((resolve, reject) => {
    req.once('error', reject);
    req.once('response', (res) => {
      const timed = Object.assign(res, { headersAt: performance.now() });
      res.setEncoding(encoding);
      res.on('data', (text: string) => reads.push({ at: performance.now(), text }));
      const finish = () => resolveDone(reads.map((r) => r.text).join(''));
      res.once('end', finish);
      res.once('close', finish);
      res.once('error', finish);
      resolve(timed);
    });
  });
  headersPromise.catch(() => resolveDone(''));
  req.end(payload);
  return { req, sentAt, headers: headersPromise, reads, done };
}

/** The `data:` payloads of an SSE body, in order. */
export function sseData(body: string): string[] {
  return body
    .split(/\r\n\r\n|\n\n|\r\r/)
    .map((event) =>
      event
        .split(/\r\n|\n|\r/)
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).trimStart())
        .join('\n'),
    )
    .filter((data) => data.length > 0);
}

/** Resolves when `predicate` holds, polling every `everyMs`; rejects after `ms`. */
export async function waitFor(predicate: () => boolean, ms = 2000, what = 'condition', everyMs = 5): Promise<void> {
  const until = performance.now() + ms;
  while (!predicate()) {
    if (performance.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/**
 * Registers an `afterEach` that runs every tracked closer, so a test that fails half-way still
 * releases its servers and jest exits. Returns `track(close)`, which gives back `close` made
 * idempotent (the test may call it itself too).
 */
export function closeAfterEach(): (close: () => Promise<void>) => () => Promise<void> {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });
  return (close) => {
    let closing: Promise<void> | undefined;
    const once = () => (closing ??= close());
    closers.push(once);
    return once;
  };
}

/** The headers every proxied event stream must carry: 200, SSE type, no caching or buffering, no stale length or encoding. */
export function expectSseHeaders(res: http.IncomingMessage): void {
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
  expect(res.headers['cache-control']).toBe('no-cache');
  expect(res.headers['x-accel-buffering']).toBe('no');
  expect(res.headers['content-length']).toBeUndefined();
  expect(res.headers['content-encoding']).toBeUndefined();
}
