/** requestLogger on plain node:http (no Express), buildLogEntry and request ids. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { requestIdFrom, requestState } from '../../../lib/http/request-state.js';
import { requestLogger } from '../../../lib/logging/index.js';
import { buildLogEntry } from '../../../lib/logging/request-logger.js';
import { captureLogger } from '../../kit/app.js';
import { sleep } from '../../kit/upstream.js';
import { closeAfterEach, timedPost, waitFor } from '../../kit/stream-client.js';

const track = closeAfterEach();
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

async function serve(handler: http.RequestListener, logger = captureLogger()) {
  const log = requestLogger({ logger: logger.logger });
  const server = http.createServer((req, res) => log(req, res, () => handler(req, res)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const close = track(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, entries: logger.entries, close };
}

/** The logger's rounding, to 0.1 ms; monotonic, so `a <= b` gives `tenth(a) <= tenth(b)`. */
const tenth = (ms: number) => Math.round(ms * 10) / 10;

const fakeReq = (headers: http.IncomingHttpHeaders, url = '/x') => ({ headers, url, method: 'GET' }) as http.IncomingMessage;

describe('requestIdFrom', () => {
  it.each(['a', 'A.b-c_9', 'x'.repeat(128)])('keeps %s', (id) => {
    expect(requestIdFrom(fakeReq({ 'x-request-id': id }))).toBe(id);
  });
  it.each([
    ['CRLF', 'abc\r\nset-cookie: x=1'],
    ['LF', 'abc\ndef'],
    ['129 chars', 'x'.repeat(129)],
    ['a space', 'a b'],
    ['empty', ''],
    ['a trailing newline', 'abc\n'],
  ])('replaces an id with %s by a UUID', (_name, id) => {
    expect(requestIdFrom(fakeReq({ 'x-request-id': id }))).toMatch(UUID);
  });
  it('replaces a missing or repeated id', () => {
    expect(requestIdFrom(fakeReq({}))).toMatch(UUID);
    expect(requestIdFrom(fakeReq({ 'x-request-id': ['a', 'b'] as unknown as string }))).toMatch(UUID);
  });
});

describe('buildLogEntry path', () => {
  it.each([
    ['/llm/v1/x?key=1', '/llm/v1/x'],
    ['http://host:8080/llm/v1/x?key=1', '/llm/v1/x'],
    ['https://user:pw@host/llm/v1/x', '/llm/v1/x'],
    ['http://host', '/'],
    ['http://host?a=/b', '/'],
  ])('logs %s as %s (no scheme, host or query)', (originalUrl, path) => {
    const req = Object.assign(fakeReq({}, '/x'), { originalUrl, method: 'POST' });
    const res = { writableFinished: true, statusCode: 200, headersSent: true, getHeader: () => undefined } as unknown as http.ServerResponse;
    const { meta, message } = buildLogEntry(req, res, requestState(req), performance.now());
    expect(meta.path).toBe(path);
    expect(message).toBe(`POST ${path} 200`);
  });
});

describe('requestLogger', () => {
  it('refuses a missing logger, naming the option', () => {
    expect(() => requestLogger({} as never)).toThrow(/`logger`/);
    expect(() => requestLogger({ logger: {} } as never)).toThrow(/`logger`/);
  });

  it('logs one entry per request on plain node:http, with duration for a plain answer', async () => {
    const app = await serve((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end('{}');
    });
    const client = timedPost(`${app.url}/plain?secret=1`, {});
    await client.done;
    await waitFor(() => app.entries.length === 1);
    await sleep(20);
    expect(app.entries).toHaveLength(1);
    expect(app.entries[0]).toMatchObject({ level: 'info', message: 'POST /plain 200', method: 'POST', path: '/plain', status: 200 });
    expect(app.entries[0].request_id).toMatch(UUID);
    expect(app.entries[0]).toHaveProperty('duration');
    expect(app.entries[0]).not.toHaveProperty('ttfb');
  });

  it.each([
    ['setHeader', (res: http.ServerResponse) => res.setHeader('Content-Type', 'text/event-stream').writeHead(200)],
    ['writeHead(status, object)', (res: http.ServerResponse) => res.writeHead(200, { 'Content-Type': 'text/event-stream' })],
    ['writeHead(status, array)', (res: http.ServerResponse) => res.writeHead(200, ['Content-Type', 'text/event-stream'])],
  ])('logs a text/event-stream answer (%s) with ttfb and stream_duration, never duration', async (_how, head) => {
    // The handler's own marks, on the logger's clock: ttfb must end by the time writeHead
    // returned, stream_duration no sooner than the handler called end().
    const marks = { headers: 0, end: 0 };
    const app = await serve(async (req, res) => {
      const { startedAt } = requestState(req);
      head(res);
      marks.headers = performance.now() - startedAt;
      res.flushHeaders();
      await sleep(200);
      marks.end = performance.now() - startedAt;
      res.end('data: x\n\n');
    });
    await timedPost(`${app.url}/s`, {}).done;
    await waitFor(() => app.entries.length === 1);
    const entry = app.entries[0] as Record<string, number>;
    expect(entry).not.toHaveProperty('duration');
    expect(entry.ttfb).toBeLessThanOrEqual(tenth(marks.headers));
    expect(entry.stream_duration).toBeGreaterThanOrEqual(tenth(marks.end));
    expect(entry.stream_duration).toBeGreaterThanOrEqual(195);
  });

  it('stays quiet when an outer requestLogger already owns the request', async () => {
    const inner = captureLogger();
    const innerLog = requestLogger({ logger: inner.logger });
    const app = await serve((req, res) => innerLog(req, res, () => res.end('ok')));
    await timedPost(`${app.url}/twice`, {}).done;
    await waitFor(() => app.entries.length === 1);
    await sleep(30);
    expect(inner.entries).toEqual([]);
    expect(app.entries).toHaveLength(1);
  });

  it.each([
    [200, 'info'],
    [302, 'info'],
    [404, 'warn'],
    [429, 'warn'],
    [500, 'error'],
    [503, 'error'],
  ])('logs status %i at %s', async (status, level) => {
    const app = await serve((_req, res) => {
      res.statusCode = status;
      res.end();
    });
    await timedPost(`${app.url}/`, {}).done;
    await waitFor(() => app.entries.length === 1);
    expect(app.entries[0]).toMatchObject({ status, level });
  });

  it('contains a logger that throws, and one whose log rejects', async () => {
    for (const log of [
      () => {
        throw new Error('sink down');
      },
      () => Promise.reject(new Error('sink down')),
    ]) {
      let calls = 0;
      const middleware = requestLogger({
        logger: {
          log: () => {
            calls++;
            return log();
          },
        },
      });
      const server = http.createServer((req, res) => middleware(req, res, () => res.end('fine')));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const close = track(() => new Promise<void>((resolve) => server.close(() => resolve())));
      const unhandled: unknown[] = [];
      const onUnhandled = (error: unknown) => unhandled.push(error);
      process.on('unhandledRejection', onUnhandled);
      try {
        expect(await timedPost(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, {}).done).toBe('fine');
        await waitFor(() => calls === 1);
        await sleep(20);
        expect(unhandled).toEqual([]);
      } finally {
        process.off('unhandledRejection', onUnhandled);
        await close();
      }
    }
  });
});

describe('buildLogEntry', () => {
  const res = (headers: Record<string, string>, finished: boolean, status = 200) =>
    ({ statusCode: status, writableFinished: finished, headersSent: true, getHeader: (name: string) => headers[name] }) as unknown as http.ServerResponse;

  it('rounds times to 0.1 ms', () => {
    const req = fakeReq({}, '/a?b=c');
    const context = requestState(req);
    const { meta } = buildLogEntry(req, res({ 'content-type': 'application/json' }, true), context, context.startedAt + 12.3456);
    expect(meta.duration).toBe(12.3);
    expect(meta.path).toBe('/a');
  });

  it('derives stream fields from the context marks', () => {
    const req = fakeReq({});
    const context = requestState(req);
    const t0 = context.startedAt;
    Object.assign(context, { headersSentAt: t0 + 5.04, firstChunkAt: t0 + 300.06, streamEndedAt: t0 + 800.16 });
    const { meta, level } = buildLogEntry(req, res({ 'content-type': 'text/event-stream; charset=utf-8' }, true), context, performance.now());
    expect(meta).toMatchObject({ ttfb: 5, ttft: 300.1, stream_duration: 800.2 });
    expect(meta).not.toHaveProperty('duration');
    expect(level).toBe('info');
  });

  it('records 499 with error_kind client_disconnect for a response that never finished', () => {
    const req = fakeReq({});
    const context = requestState(req);
    const entry = buildLogEntry(req, res({}, false), context, context.startedAt + 1);
    expect(entry.level).toBe('info');
    expect(entry.meta).toMatchObject({ status: 499, error_kind: 'client_disconnect' });
  });

  it('logs a stream that ended with an error event at warn', () => {
    const req = fakeReq({});
    const context = requestState(req);
    context.streamError = 'stream_idle_timeout';
    const entry = buildLogEntry(req, res({ 'content-type': 'text/event-stream' }, true), context, context.startedAt + 1);
    expect(entry.level).toBe('warn');
    expect(entry.meta.stream_error).toBe('stream_idle_timeout');
  });
});
