/**
 * pipeSse on its own: a plain node:http server (no Express) pipes a source stream the test
 * controls, and a raw node:http client reads it.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough, Readable } from 'node:stream';
import { performance } from 'node:perf_hooks';
import { pipeSse } from '../../../lib/sse/index.js';
import type { PipeSseOptions, SseEndReason, SsePipeResult } from '../../../lib/sse/index.js';
import { sseErrorEvent } from '../../../lib/sse/pipe.js';
import { sleep } from '../../kit/upstream.js';
import { closeAfterEach, expectSseHeaders, sseData, timedPost, waitFor } from '../../kit/stream-client.js';
import { failOnUnhandledErrors } from '../../kit/unhandled.js';

const track = closeAfterEach();

interface Piped {
  url: string;
  /** The source of the next request, created when it arrives. */
  sources: PassThrough[];
  responses: http.ServerResponse[];
  results: Promise<SsePipeResult>[];
  aborts: SseEndReason[];
  close(): Promise<void>;
}

/** A plain http server whose every request pipes a fresh PassThrough with `pipeSse`. */
async function pipedServer(options: PipeSseOptions = {}, prepare?: (res: http.ServerResponse) => void, makeSource?: () => PassThrough): Promise<Piped> {
  const piped: Omit<Piped, 'url' | 'close'> = { sources: [], responses: [], results: [], aborts: [] };
  const server = http.createServer((req, res) => {
    req.resume();
    const source = makeSource?.() ?? new PassThrough();
    piped.sources.push(source);
    piped.responses.push(res);
    prepare?.(res);
    piped.results.push(pipeSse(source, res, { ...options, abort: (reason) => piped.aborts.push(reason) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    ...piped,
    url: `http://127.0.0.1:${port}/`,
    close: track(
      () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    ),
  };
}

const EVENT = (n: number) => `data: {"n":${n}}\n\n`;

failOnUnhandledErrors();

describe('sseErrorEvent', () => {
  it('is one data line with the OpenAI error shape and a blank line', () => {
    const event = sseErrorEvent('ttft_timeout', 'no token');
    expect(event).toBe('data: {"error":{"message":"no token","type":"proxy_error","param":null,"code":"ttft_timeout"}}\n\n');
  });
});

describe('pipeSse on plain node:http', () => {
  it('flushes the streaming headers before the first chunk exists, dropping a stale length', async () => {
    const piped = await pipedServer({}, (res) => {
      res.statusCode = 200;
      res.setHeader('content-length', '999');
    });
    const client = timedPost(piped.url, {});
    const res = await client.headers; // the source has not written anything yet
    expect(piped.sources[0].readableLength).toBe(0);
    expect(client.reads).toHaveLength(0);
    expectSseHeaders(res);
    piped.sources[0].end(EVENT(1));
    expect(await client.done).toBe(EVENT(1));
    expect(await piped.results[0]).toEqual({ reason: 'done', bytes: EVENT(1).length });
    expect(piped.aborts).toEqual([]);
    await piped.close();
  });

  it('forwards each chunk the moment it arrives, bytes unchanged, before the next exists', async () => {
    const piped = await pipedServer();
    const client = timedPost(piped.url, {});
    await client.headers;
    const chunks = ['data: {"a":"é"}\n\n', 'data: {"b"', ':2}\n\n', 'data: [DONE]\n\n'];
    for (const [i, chunk] of chunks.entries()) {
      piped.sources[0].write(chunk);
      // the client sees this chunk while the source is still silent
      await waitFor(() => client.reads.length === i + 1, 2000, `chunk ${i}`);
      expect(client.reads[i].text).toBe(chunk);
    }
    piped.sources[0].end();
    expect(await client.done).toBe(chunks.join(''));
    await piped.close();
  });

  it('ends with a ttft_timeout error event when no chunk comes in time, and aborts the source', async () => {
    const piped = await pipedServer({ ttftMs: 150, heartbeatMs: 0 });
    const client = timedPost(piped.url, {});
    const res = await client.headers;
    expect(res.statusCode).toBe(200);
    const body = await client.done;
    expect(body).toBe('data: {"error":{"message":"The upstream provider sent no token in time","type":"proxy_error","param":null,"code":"ttft_timeout"}}\n\n');
    const result = await piped.results[0];
    expect(result.reason).toBe('ttft_timeout');
    expect(piped.aborts).toEqual(['ttft_timeout']);
    expect(piped.sources[0].destroyed).toBe(true);
    expect(piped.responses[0].writableEnded).toBe(true);
    await piped.close();
  });

  it('counts the TTFT from startedAt, not from when the pipe began', async () => {
    // Two pipes with the same TTFT: the one whose request left 250 ms earlier times out first.
    const early = await pipedServer({ ttftMs: 300, startedAt: performance.now() - 250, heartbeatMs: 0 });
    const late = await pipedServer({ ttftMs: 300, heartbeatMs: 0 });
    const order: string[] = [];
    const earlyClient = timedPost(early.url, {});
    const lateClient = timedPost(late.url, {});
    await Promise.all([earlyClient.done.then(() => order.push('early')), lateClient.done.then(() => order.push('late'))]);
    expect(order).toEqual(['early', 'late']);
    expect(await earlyClient.done).toContain('"code":"ttft_timeout"');
    await early.close();
    await late.close();
  });

  it('ends with a stream_idle_timeout event when the source goes silent between chunks', async () => {
    const piped = await pipedServer({ idleMs: 150, heartbeatMs: 0 });
    const client = timedPost(piped.url, {});
    await client.headers;
    piped.sources[0].write(EVENT(1));
    const body = await client.done;
    expect(sseData(body)).toEqual(['{"n":1}', JSON.stringify({ error: { message: 'The upstream provider stopped sending for too long', type: 'proxy_error', param: null, code: 'stream_idle_timeout' } })]);
    expect((await piped.results[0]).reason).toBe('stream_idle_timeout');
    expect(piped.aborts).toEqual(['stream_idle_timeout']);
    expect(piped.sources[0].destroyed).toBe(true);
    await piped.close();
  });

  it('closes a half-forwarded event before the error event, so the error stands on its own', async () => {
    const piped = await pipedServer({ idleMs: 150, heartbeatMs: 0 });
    const client = timedPost(piped.url, {});
    await client.headers;
    piped.sources[0].write('data: {"partial":');
    const body = await client.done;
    expect(body).toMatch(/^data: \{"partial":\n\ndata: \{"error":.*"code":"stream_idle_timeout"\}\}\n\n$/);
    await piped.close();
  });

  it('ends with an upstream_stream_error event when the source fails mid-stream', async () => {
    const piped = await pipedServer({ heartbeatMs: 0 });
    const client = timedPost(piped.url, {});
    await client.headers;
    piped.sources[0].write(EVENT(1));
    await waitFor(() => client.reads.length === 1);
    const failure = Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' });
    piped.sources[0].destroy(failure);
    const body = await client.done;
    expect(sseData(body).at(-1)).toContain('"code":"upstream_stream_error"');
    const result = await piped.results[0];
    expect(result.reason).toBe('upstream_stream_error');
    expect(result.error).toBe(failure);
    expect(result.bytes).toBe(EVENT(1).length);
    await piped.close();
  });

  it('does not crash when a source errors on destroy (as undici bodies do) after an early end', async () => {
    // undici's BodyReadable turns destroy() into a RequestAbortedError, emitted a tick later.
    const erroringSource = () => {
      const source = new PassThrough();
      const destroy = source.destroy.bind(source);
      source.destroy = (error?: Error) => destroy(error ?? Object.assign(new Error('Request aborted'), { code: 'UND_ERR_ABORTED' }));
      return source;
    };
    const piped = await pipedServer({ ttftMs: 100, heartbeatMs: 0 }, undefined, erroringSource);
    const client = timedPost(piped.url, {});
    await client.headers;
    expect(await client.done).toContain('"code":"ttft_timeout"');
    await sleep(50); // let the destroy error surface, if it would crash
    await piped.close();
  });

  it('writes a keep-alive comment after heartbeatMs of silence, only at event boundaries', async () => {
    const piped = await pipedServer({ heartbeatMs: 100 });
    const client = timedPost(piped.url, {});
    await client.headers;
    await sleep(350); // waiting for the first token: heartbeats
    const beforeFirst = client.reads.map((r) => r.text).join('');
    expect(beforeFirst).toMatch(/^(: keep-alive\n\n){2,4}$/);

    const source = piped.sources[0];
    source.write(EVENT(1));
    source.write('data: {"half":'); // half an event, then silence: no comment may land inside it
    await sleep(350);
    const duringHalf = client.reads.map((r) => r.text).join('').slice(beforeFirst.length);
    expect(duringHalf).toBe(EVENT(1) + 'data: {"half":');

    source.write('1}\n\n');
    await sleep(250); // back at a boundary: heartbeats resume
    const afterHalf = client.reads.map((r) => r.text).join('').slice(beforeFirst.length + duringHalf.length);
    expect(afterHalf).toMatch(/^1\}\n\n(: keep-alive\n\n){1,3}$/);
    source.end();
    const body = await client.done;
    expect(sseData(body)).toEqual(['{"n":1}', '{"half":1}']);
    expect((await piped.results[0]).bytes).toBe(EVENT(1).length + 'data: {"half":1}\n\n'.length);
    await piped.close();
  });

  it('treats \\r\\n\\r\\n as an event boundary for heartbeats', async () => {
    const piped = await pipedServer({ heartbeatMs: 100 });
    const client = timedPost(piped.url, {});
    await client.headers;
    piped.sources[0].write('data: 1\r\n\r\n');
    await sleep(250);
    expect(client.reads.map((r) => r.text).join('')).toMatch(/^data: 1\r\n\r\n(: keep-alive\n\n)+$/);
    piped.sources[0].write('data: 2\r\n');
    await sleep(250);
    expect(client.reads.map((r) => r.text).join('')).toMatch(/data: 2\r\n$/);
    piped.sources[0].end();
    await client.done;
    await piped.close();
  });

  it('finds the event boundary across chunks shorter than three bytes', async () => {
    const piped = await pipedServer({ heartbeatMs: 100 });
    const client = timedPost(piped.url, {});
    await client.headers;
    const source = piped.sources[0];
    const text = () => client.reads.map((r) => r.text).join('');
    source.write('data: 1\r');
    await sleep(10);
    source.write('\n'); // "\r\n": a line ends, the event does not
    await sleep(250);
    expect(text()).toBe('data: 1\r\n');
    source.write('\r');
    await sleep(10);
    source.write('\n'); // the blank line, one byte at a time: now heartbeats may come
    await sleep(250);
    expect(text()).toMatch(/^data: 1\r\n\r\n(: keep-alive\n\n)+$/);
    source.end();
    await client.done;
    await piped.close();
  });

  it('sends no heartbeat with heartbeatMs: 0', async () => {
    const piped = await pipedServer({ heartbeatMs: 0 });
    const client = timedPost(piped.url, {});
    await client.headers;
    await sleep(200);
    piped.sources[0].end(EVENT(1));
    expect(await client.done).toBe(EVENT(1));
    await piped.close();
  });

  it('aborts the source when the client goes away, and writes nothing more', async () => {
    const piped = await pipedServer({ heartbeatMs: 50, idleMs: 5000 });
    const client = timedPost(piped.url, {});
    await client.headers;
    piped.sources[0].write(EVENT(1));
    await waitFor(() => client.reads.length === 1);
    client.req.destroy();
    const result = await piped.results[0];
    expect(result).toEqual({ reason: 'client_closed', bytes: EVENT(1).length });
    expect(piped.aborts).toEqual(['client_closed']);
    expect(piped.sources[0].destroyed).toBe(true);
    await sleep(120); // no heartbeat timer left writing to a closed response
    await piped.close();
  });

  it('calls onHeaders and onFirstData once, in order', async () => {
    const calls: string[] = [];
    const piped = await pipedServer({ onHeaders: () => calls.push('headers'), onFirstData: () => calls.push('first') });
    const client = timedPost(piped.url, {});
    await client.headers;
    expect(calls).toEqual(['headers']);
    piped.sources[0].write(EVENT(1));
    piped.sources[0].end(EVENT(2));
    await client.done;
    expect(calls).toEqual(['headers', 'first']);
    await piped.close();
  });

  it('calls res.flush() after every write when compression added one', async () => {
    let flushes = 0;
    const piped = await pipedServer({ heartbeatMs: 0 }, (res) => {
      (res as http.ServerResponse & { flush: () => void }).flush = () => {
        flushes++;
      };
    });
    const client = timedPost(piped.url, {});
    await client.headers;
    piped.sources[0].write(EVENT(1));
    await waitFor(() => flushes >= 1);
    piped.sources[0].write(EVENT(2));
    await waitFor(() => flushes >= 2);
    piped.sources[0].end();
    await client.done;
    await piped.close();
  });

  it('stops reading the source while the client does not read, so memory stays bounded', async () => {
    const CHUNK = Buffer.alloc(32 * 1024, 'a');
    CHUNK.write('data: ');
    CHUNK.write('\n\n', CHUNK.length - 2);
    const TOTAL = 1000;
    const piped = await pipedServer({ heartbeatMs: 0 }, undefined, () => new PassThrough({ highWaterMark: 64 * 1024 }));
    const client = timedPost(piped.url, {});
    const res = await client.headers;
    res.pause(); // the client stops reading: the socket fills, then res.write() returns false

    const source = piped.sources[0];
    let produced = 0;
    let blocked = false;
    const produce = async () => {
      while (produced < TOTAL) {
        produced++;
        if (!source.write(CHUNK)) {
          blocked = true;
          await new Promise((resolve) => source.once('drain', resolve));
        }
      }
      source.end();
    };
    const producing = produce();
    await waitFor(() => blocked && source.isPaused(), 5000, 'the pipe to pause the source');
    await sleep(300); // a pipe ignoring backpressure would keep reading into memory meanwhile
    const proxyRes = piped.responses[0];
    const bufferedInProxy = source.readableLength + source.writableLength + proxyRes.writableLength;
    expect(produced).toBeLessThan(TOTAL / 2);
    expect(bufferedInProxy).toBeLessThan(1024 * 1024);
    expect(source.isPaused()).toBe(true);

    res.resume(); // the client reads again: everything arrives, nothing is lost
    await producing;
    const body = await client.done;
    expect(body.length).toBe(TOTAL * CHUNK.length);
    expect(await piped.results[0]).toEqual({ reason: 'done', bytes: TOTAL * CHUNK.length });
    await piped.close();
  });

  it('accepts any Readable, including one from Readable.from', async () => {
    const server = http.createServer((_req, res) => {
      void pipeSse(Readable.from([Buffer.from(EVENT(1)), Buffer.from(EVENT(2))]), res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = timedPost(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, {});
    expect(await client.done).toBe(EVENT(1) + EVENT(2));
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('does not count comment lines as the first token: TTFT runs until a data field arrives', async () => {
    const firsts: number[] = [];
    const piped = await pipedServer({ ttftMs: 250, heartbeatMs: 0, onFirstData: () => firsts.push(1) });
    const client = timedPost(piped.url, {});
    await client.headers;
    piped.sources[0].write(': OPENROUTER PROCESSING\n\n');
    await waitFor(() => client.reads.length === 1);
    expect(firsts).toEqual([]);
    expect(await client.done).toBe(': OPENROUTER PROCESSING\n\n' + sseErrorEvent('ttft_timeout', 'The upstream provider sent no token in time'));
    expect((await piped.results[0]).reason).toBe('ttft_timeout');
  });

  it('finds the first data field however the chunks split it, and `event:` lines are not data', async () => {
    const firsts: number[] = [];
    const piped = await pipedServer({ ttftMs: 5000, heartbeatMs: 0, onFirstData: () => firsts.push(client.reads.length) });
    const client = timedPost(piped.url, {});
    await client.headers;
    const source = piped.sources[0];
    for (const piece of [': c\r\n\r\n', 'event: message_start\n', 'da', 't', 'a: {}\n\n']) {
      source.write(piece);
      await waitFor(() => client.reads.map((r) => r.text).join('').endsWith(piece));
    }
    expect(firsts).toHaveLength(1);
    expect(client.reads.map((r) => r.text).join('')).toBe(': c\r\n\r\nevent: message_start\ndata: {}\n\n');
    source.end();
    await client.done;
  });

  it('ends a stream that lasts longer than maxMs with a stream_max_duration event, in the given framing', async () => {
    const errorEvent = (code: string, message: string) => `event: error\ndata: ${JSON.stringify({ code, message })}\n\n`;
    const piped = await pipedServer({ maxMs: 200, heartbeatMs: 0, errorEvent });
    const client = timedPost(piped.url, {});
    await client.headers;
    const ticker = setInterval(() => piped.sources[0].write(EVENT(1)), 20); // never silent, never done
    const body = await client.done;
    clearInterval(ticker);
    expect(body.endsWith('event: error\ndata: {"code":"stream_max_duration","message":"The stream lasted longer than the proxy allows"}\n\n')).toBe(true);
    expect(piped.aborts).toEqual(['stream_max_duration']);
    expect(piped.sources[0].destroyed).toBe(true);
  });

  it('closes a client that reads nothing for idleMs while the stream waits on it, and aborts the source', async () => {
    const CHUNK = Buffer.from(`data: ${'x'.repeat(64 * 1024)}\n\n`);
    const piped = await pipedServer({ idleMs: 300, heartbeatMs: 0 });
    const client = timedPost(piped.url, {});
    const res = await client.headers;
    res.pause(); // never reads again
    const source = piped.sources[0];
    const serverSocket = piped.responses[0].socket!;
    const feeding = setInterval(() => {
      if (!source.destroyed && source.writableLength < 1024 * 1024) source.write(CHUNK);
    }, 5);
    const result = await piped.results[0];
    clearInterval(feeding);
    expect(result.reason).toBe('client_stalled');
    expect(piped.aborts).toEqual(['client_stalled']);
    expect(source.destroyed).toBe(true);
    expect(piped.responses[0].destroyed).toBe(true);
    expect(serverSocket.destroyed).toBe(true); // the connection is closed, not left to the stalled reader
  });

  it('lets a slow client that keeps reading finish, however long the backpressure lasts', async () => {
    const CHUNK = Buffer.from(`data: ${'x'.repeat(32 * 1024)}\n\n`);
    const piped = await pipedServer({ idleMs: 300, heartbeatMs: 0 });
    const client = timedPost(piped.url, {});
    const res = await client.headers;
    const source = piped.sources[0];
    for (let i = 0; i < 200; i++) source.write(CHUNK);
    source.end();
    // Read in sips, with pauses, for longer than idleMs in all.
    res.pause();
    const sipping = setInterval(() => {
      res.resume();
      setTimeout(() => res.pause(), 5);
    }, 100);
    const result = await piped.results[0];
    clearInterval(sipping);
    res.resume();
    expect(result).toEqual({ reason: 'done', bytes: 200 * CHUNK.length });
  });

  it('ends with a proxy_closed event when its stop watch fires', async () => {
    const listeners: (() => void)[] = [];
    const stop = { onStop: (listener: () => void) => (listeners.push(listener), () => listeners.splice(listeners.indexOf(listener), 1)) };
    const piped = await pipedServer({ stop, heartbeatMs: 0 });
    const client = timedPost(piped.url, {});
    await client.headers;
    piped.sources[0].write(EVENT(1));
    await waitFor(() => client.reads.length === 1);
    listeners[0]();
    expect(sseData(await client.done).at(-1)).toContain('"code":"proxy_closed"');
    expect(piped.aborts).toEqual(['proxy_closed']);
  });

  it('shows every forwarded chunk to onChunk, after it was written', async () => {
    const seen: string[] = [];
    const piped = await pipedServer({ heartbeatMs: 0, onChunk: (chunk) => seen.push(chunk.toString()) });
    const client = timedPost(piped.url, {});
    await client.headers;
    piped.sources[0].write(EVENT(1));
    piped.sources[0].end(EVENT(2));
    await client.done;
    expect(seen.join('')).toBe(EVENT(1) + EVENT(2));
  });

  it('follows a client watch it is given instead of watching the response itself', async () => {
    let gone: () => void = () => {};
    const client = { gone: false, onGone: (listener: () => void) => ((gone = listener), () => {}) };
    const piped = await pipedServer({ heartbeatMs: 0, client });
    const http1 = timedPost(piped.url, {});
    await http1.headers;
    gone(); // the socket is still open: only the watch says the client left
    expect(piped.responses[0].destroyed).toBe(false);
    expect(await piped.results[0]).toMatchObject({ reason: 'client_closed' });
  });
});
