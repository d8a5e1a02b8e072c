/**
 * What the API mocks (messages-upstream.ts, responses-upstream.ts) share: routing on the path after
 * `/v1`, JSON and SSE writing, and a script of outcomes a test sets per request.
 */
import type http from 'node:http';
import type { RecordedRequest } from './upstream.js';
import { sleep } from './upstream.js';

/** A request header that picks the outcome of that one request (when no scripted outcome is queued). */
export const OUTCOME_HEADER = 'x-mock-outcome';

/**
 * The path after the first `/v1` segment (the router calls `<baseUrl>/messages`,
 * `<baseUrl>/responses/{id}` with a baseUrl ending in `/v1`), without the query, and the query.
 * A path without `/v1` is taken whole.
 */
export function route(url: string): { path: string; query: URLSearchParams } {
  const parsed = new URL(url, 'http://mock');
  const at = parsed.pathname.indexOf('/v1/');
  return { path: at === -1 ? parsed.pathname : parsed.pathname.slice(at + 3), query: parsed.searchParams };
}

export function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...headers });
  res.end(text);
}

export interface SseWriter {
  /** Writes `event: <event>` and `data: <json>`; resolves false once the client has gone away. */
  send(event: string, data: unknown): Promise<boolean>;
  end(): void;
}

/** Starts a 200 SSE answer. Each event is its own write, followed by `delayMs` (or one macrotask). */
export function openSse(res: http.ServerResponse, headers: Record<string, string>, delayMs: number): SseWriter {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', ...headers });
  res.flushHeaders();
  return {
    async send(event, data) {
      if (res.destroyed || res.writableEnded) return false;
      res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      await (delayMs > 0 ? sleep(delayMs) : new Promise<void>((resolve) => setImmediate(resolve)));
      return !res.destroyed;
    },
    end() {
      if (!res.destroyed && !res.writableEnded) res.end();
    },
  };
}

/**
 * Outcomes for the next requests, whatever their endpoint: first the queue a test filled with
 * `push()`, then the request's `x-mock-outcome` header, else `'ok'`. An outcome that makes no
 * sense for an endpoint (a mid-stream failure on a JSON call) answers normally.
 */
export class OutcomeScript<T extends string> {
  private readonly queue: T[] = [];

  /** `known` lists every outcome, `'ok'` first. */
  constructor(private readonly known: readonly T[]) {}

  push(...outcomes: T[]): void {
    for (const outcome of outcomes) this.check(outcome);
    this.queue.push(...outcomes);
  }

  clear(): void {
    this.queue.length = 0;
  }

  /** How many scripted outcomes are still queued. */
  get pending(): number {
    return this.queue.length;
  }

  take(request: RecordedRequest): T {
    const queued = this.queue.shift();
    if (queued !== undefined) return queued;
    const header = request.headers[OUTCOME_HEADER];
    return this.check((typeof header === 'string' ? header : 'ok') as T);
  }

  private check(outcome: T): T {
    if (!this.known.includes(outcome)) throw new Error(`mock upstream: unknown outcome '${outcome}'; known: ${this.known.join(', ')}`);
    return outcome;
  }
}

/** The text as deltas: an array is taken as it is, a string is cut after each run of spaces. */
export function deltasOf(text: string | readonly string[]): string[] {
  if (typeof text !== 'string') return [...text];
  return text.match(/\S+\s*|\s+/g) ?? [''];
}

/** A stable fake id: `<prefix><n>` padded, e.g. `msg_mock000003`. */
export function mockId(prefix: string, n: number): string {
  return `${prefix}${String(n).padStart(6, '0')}`;
}

/** The events of an SSE body: each `event:` name (undefined when absent) and its `data:` parsed as JSON. */
export function sseEvents(body: string): { event: string | undefined; data: Record<string, unknown> }[] {
  return body
    .split(/\r\n\r\n|\n\n/)
    .filter((block) => block.trim() !== '')
    .map((block) => {
      const lines = block.split(/\r\n|\n/);
      const event = lines.find((line) => line.startsWith('event:'))?.slice(6).trim();
      const data = lines.filter((line) => line.startsWith('data:')).map((line) => line.slice(5).trimStart()).join('\n');
      return { event, data: JSON.parse(data) as Record<string, unknown> };
    });
}
