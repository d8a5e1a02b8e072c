/** How streams end when something goes wrong, and how they treat slow or silent parties. */
import type http from 'node:http';
import { jest } from '@jest/globals';
import { buildApp, listen, provider } from '../kit/app.js';
import { chunkEvent, sleep, useUpstream } from '../kit/upstream.js';
import { closeAfterEach, sseData, timedPost, waitFor } from '../kit/stream-client.js';
import { failOnUnhandledErrors } from '../kit/unhandled.js';

/**
 * Fakes the timers (setTimeout, setInterval), and with `clock` the global performance.now() the
 * SSE pipe reads too; sockets and setImmediate stay real, so a stream flows as usual and a
 * timeout or a heartbeat comes only when the test moves the clock.
 */
let faked = false;
function fakeTimeouts(options: { clock?: boolean } = {}): void {
  faked = true;
  const real = ['Date', 'hrtime', 'nextTick', 'queueMicrotask', 'setImmediate', 'clearImmediate'] as const;
  jest.useFakeTimers({ doNotFake: options.clock ? [...real] : [...real, 'performance'] });
}
function realTimers(): void {
  faked = false;
  jest.useRealTimers();
}
// Before the closers below: a test that failed on fake timers has what waits on them run now.
afterEach(() => {
  if (!faked) return;
  jest.runOnlyPendingTimers();
  realTimers();
});
const track = closeAfterEach();

const upstream = useUpstream(() => {});
failOnUnhandledErrors();

const PATH = '/llm/v1/chat/completions';
const streamBody = () => ({ model: 'gpt-test', stream: true, messages: [{ role: 'user', content: 'hi' }] });
const errorEvent = (code: string, message: string) => `data: ${JSON.stringify({ error: { message, type: 'proxy_error', param: null, code } })}\n\n`;

function sseHead(res: http.ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  res.flushHeaders();
}

type Options = Omit<Parameters<typeof buildApp>[0], 'providers'>;

async function proxy(options: Options = {}, setup?: Parameters<typeof buildApp>[1]) {
  const built = buildApp({ providers: [provider(upstream.baseUrl)], ...options }, setup);
  const server = await listen(built.app);
  return {
    ...built,
    url: server.url + PATH,
    close: track(async () => {
      await server.close();
      await built.router.close();
    }),
  };
}

/**
 * Resolves when the upstream saw request `i`'s socket close: the proxy aborted it (a proxy that
 * does not leaves it open on its keep-alive pool, and the test fails on its timeout).
 */
async function upstreamSocketClosed(i: number): Promise<void> {
  await waitFor(() => upstream.socketClosed.length > i, 2000, 'the upstream request');
  await upstream.socketClosed[i];
}

describe('streaming: timeouts', () => {
  it('answers 504 upstream_timeout JSON when the TTFT passes before the upstream sent headers', async () => {
    upstream.setHandler(() => {}); // never answers
    const app = await proxy({ timeouts: { ttftMs: 200 } });
    const client = timedPost(app.url, streamBody());
    const res = await client.headers;
    expect(res.statusCode).toBe(504);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const body = JSON.parse(await client.done);
    expect(body.error).toMatchObject({ type: 'proxy_error', code: 'upstream_timeout' });
    expect(res.headersAt - client.sentAt).toBeGreaterThanOrEqual(190);
    await upstreamSocketClosed(0);
    await waitFor(() => app.entries.length === 1);
    expect(app.entries[0]).toMatchObject({ level: 'error', status: 504, error_kind: 'timeout' });
    expect(app.entries[0]).toHaveProperty('duration'); // a JSON answer, not a stream
    await app.close();
  });

  it('writes one ttft_timeout SSE event and ends when the upstream flushed headers but no body', async () => {
    upstream.setHandler((_req, res) => sseHead(res));
    const app = await proxy({ timeouts: { ttftMs: 250 }, heartbeatMs: 0 });
    fakeTimeouts();
    const client = timedPost(app.url, streamBody());
    const res = await client.headers;
    // The proxy's clock has not moved yet: the headers went out before the TTFT timer could fire.
    expect(res.statusCode).toBe(200);
    expect(client.reads).toHaveLength(0);
    await jest.advanceTimersByTimeAsync(250);
    const body = await client.done;
    realTimers();
    expect(body).toBe(errorEvent('ttft_timeout', 'The upstream provider sent no token in time'));
    expect(res.complete).toBe(true); // ended cleanly, not cut off
    await upstreamSocketClosed(0);
    await waitFor(() => app.entries.length === 1);
    expect(app.entries[0]).toMatchObject({ level: 'warn', status: 200, stream_error: 'ttft_timeout' });
    await app.close();
  });

  it('writes a stream_idle_timeout event, ends, and aborts the upstream when it goes silent between chunks', async () => {
    upstream.setHandler((_req, res) => {
      sseHead(res);
      res.write(chunkEvent('upstream-gpt', 'first'));
    });
    const app = await proxy({ timeouts: { streamIdleMs: 200 }, heartbeatMs: 0 });
    const client = timedPost(app.url, streamBody());
    await client.headers;
    const body = await client.done;
    const events = sseData(body);
    expect(events).toHaveLength(2);
    expect(JSON.parse(events[0]).choices[0].delta.content).toBe('first');
    expect(body.endsWith(errorEvent('stream_idle_timeout', 'The upstream provider stopped sending for too long'))).toBe(true);
    await upstreamSocketClosed(0);
    await waitFor(() => app.entries.length === 1);
    expect(app.entries[0]).toMatchObject({ level: 'warn', stream_error: 'stream_idle_timeout' });
    await app.close();
  });

  it('does not count a slow client as an idle upstream', async () => {
    // The upstream is quick; only the client is slow (it reads in sips, so it makes progress).
    // The upstream waits on it for longer than streamIdleMs in all; no stream_idle_timeout may fire.
    upstream.setHandler(async (_req, res) => {
      sseHead(res);
      for (let i = 0; i < 1000; i++) {
        if (!res.write(`data: ${'x'.repeat(32 * 1024)}\n\n`)) await new Promise((resolve) => res.once('drain', resolve));
      }
      res.end('data: [DONE]\n\n');
    });
    const proxied: http.ServerResponse[] = [];
    const app = await proxy({ timeouts: { streamIdleMs: 150 }, heartbeatMs: 0 }, (host) =>
      host.use((_req, res, next) => {
        proxied.push(res);
        next();
      }),
    );
    // The proxy's idle clock is fake: it moves only between sips, once the proxy has seen the
    // last one, so a loaded machine cannot make the client look stalled or the upstream idle.
    fakeTimeouts({ clock: true });
    const client = timedPost(app.url, streamBody());
    const res = await client.headers;
    res.pause();
    const out = proxied[0];
    // Every buffer on the way fills (1,000 chunks are far more than the sockets hold) until the
    // proxy waits for the client.
    while (!out.writableNeedDrain) await new Promise((resolve) => setImmediate(resolve));
    let drained = false;
    out.on('drain', () => (drained = true));
    const sip = () =>
      new Promise<void>((resolve) => {
        res.once('data', () => {
          res.pause();
          resolve();
        });
        res.resume();
      });
    // Seven sips 60 ms apart: the upstream waits on the client for 420 ms in all, well over streamIdleMs.
    for (let i = 0; i < 7 && !out.writableEnded && !out.destroyed; i++) {
      await jest.advanceTimersByTimeAsync(60);
      const unsent = out.socket?.writableLength ?? 0;
      drained = false;
      // Sip until the proxy sees it: its socket took bytes, or it drained.
      do {
        await sip();
        await new Promise((resolve) => setImmediate(resolve));
      } while (!drained && (out.socket?.writableLength ?? 0) >= unsent && !out.writableEnded && !out.destroyed);
    }
    realTimers();
    res.resume();
    const body = await client.done;
    expect(body).not.toContain('stream_idle_timeout');
    expect(sseData(body).at(-1)).toBe('[DONE]');
    await app.close();
  });
});

describe('streaming: upstream and client failures', () => {
  it('writes an upstream_stream_error event and ends when the upstream resets mid-stream; logs at warn', async () => {
    upstream.setHandler(async (_req, res) => {
      sseHead(res);
      res.write(chunkEvent('upstream-gpt', 'one'));
      await sleep(50);
      res.write(chunkEvent('upstream-gpt', 'two'));
      await sleep(50);
      res.socket?.resetAndDestroy();
    });
    const app = await proxy({ heartbeatMs: 0 });
    const client = timedPost(app.url, streamBody());
    const res = await client.headers;
    const body = await client.done;
    expect(res.complete).toBe(true);
    const events = sseData(body);
    expect(events).toHaveLength(3);
    expect(body.endsWith(errorEvent('upstream_stream_error', 'The upstream stream failed before it was complete'))).toBe(true);
    await waitFor(() => app.entries.length === 1);
    expect(app.entries[0]).toMatchObject({ level: 'warn', status: 200, stream_error: 'upstream_stream_error' });
    expect(JSON.stringify(app.entries)).not.toContain('127.0.0.1');
    await app.close();
  });

  it('aborts the upstream when the client goes away mid-stream; logs 499 at info', async () => {
    let writes = 0;
    upstream.setHandler(async (_req, res) => {
      sseHead(res);
      while (!res.destroyed && writes < 200) {
        res.write(chunkEvent('upstream-gpt', `tok${writes++}`));
        await sleep(20);
      }
      res.end();
    });
    const app = await proxy({ heartbeatMs: 0 });
    const client = timedPost(app.url, streamBody());
    await client.headers;
    await waitFor(() => client.reads.length >= 2, 2000, 'two chunks');
    client.req.destroy();
    await upstreamSocketClosed(0);
    expect(writes).toBeLessThan(200); // cut off while still producing, not closed after its end
    const writesAtClose = writes;
    await sleep(100);
    expect(writes - writesAtClose).toBeLessThanOrEqual(1); // the upstream stopped producing
    await waitFor(() => app.entries.length === 1);
    await sleep(50);
    expect(app.entries).toHaveLength(1);
    expect(app.entries[0]).toMatchObject({ level: 'info', status: 499, error_kind: 'client_disconnect' });
    expect(app.entries.filter((entry) => entry.level === 'error')).toEqual([]);
    await app.close();
  });

  it('aborts the upstream when the client goes away before the first token', async () => {
    upstream.setHandler((_req, res) => sseHead(res));
    const app = await proxy({ heartbeatMs: 0 });
    const client = timedPost(app.url, streamBody());
    await client.headers;
    client.req.destroy();
    await upstreamSocketClosed(0);
    await waitFor(() => app.entries.length === 1);
    expect(app.entries[0]).toMatchObject({ level: 'info', status: 499 });
    await app.close();
  });
});

describe('streaming: heartbeats', () => {
  it('writes keep-alive comments while the upstream is silent, only between events', async () => {
    upstream.setHandler(async (_req, res) => {
      sseHead(res);
      await sleep(350); // silent before the first token
      res.write(chunkEvent('upstream-gpt', 'one'));
      await sleep(350); // silent between events
      res.write('data: {"id":"x","object":"chat.completion.chunk","choices":[{"index":0,');
      await sleep(350); // silent inside an event: no comment may land here
      res.write('"delta":{"content":"two"},"finish_reason":null}]}\n\n');
      res.end('data: [DONE]\n\n');
    });
    const app = await proxy({ heartbeatMs: 100 });
    // The upstream's silences and the proxy's heartbeat run on one fake clock, so a loaded machine
    // cannot squeeze the beats out of a silence.
    fakeTimeouts({ clock: true });
    const client = timedPost(app.url, streamBody());
    const res = await client.headers; // the upstream is in its first silence, the heartbeat armed
    const arrived = (text: string) =>
      new Promise<void>((resolve) => {
        const check = (): void => {
          if (!client.reads.some((read) => read.text.includes(text))) return;
          res.removeListener('data', check);
          resolve();
        };
        res.on('data', check);
        check();
      });
    await jest.advanceTimersByTimeAsync(350);
    await arrived('"one"'); // in before the clock moves on, so the proxy stamped it at 350
    await jest.advanceTimersByTimeAsync(350);
    await arrived('"id":"x"');
    await jest.advanceTimersByTimeAsync(350);
    const body = await client.done;
    realTimers();
    const parts = body.split(/(?<=\n\n)/);
    const beats = (from: number, to: number) => parts.slice(from, to).filter((p) => p === ': keep-alive\n\n').length;
    const one = parts.findIndex((p) => p.includes('"one"'));
    const two = parts.findIndex((p) => p.includes('"two"'));
    expect(beats(0, one)).toBeGreaterThanOrEqual(2);
    expect(beats(one + 1, two)).toBeGreaterThanOrEqual(2);
    // the split event arrived whole, with no comment inside it
    expect(parts[two]).toBe('data: {"id":"x","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"two"},"finish_reason":null}]}\n\n');
    expect(sseData(body)).toHaveLength(3);
    await app.close();
  });
});

describe('streaming: backpressure', () => {
  it('pauses the upstream while the client does not read a 1,000-chunk stream, keeping proxy buffers bounded', async () => {
    const CHUNK = `data: ${'x'.repeat(32 * 1024 - 8)}\n\n`;
    const TOTAL = 1000;
    const up = { written: 0, blocked: 0, finished: false };
    upstream.setHandler(async (_req, res) => {
      sseHead(res);
      for (let i = 0; i < TOTAL && !res.destroyed; i++) {
        up.written++;
        if (!res.write(CHUNK)) {
          up.blocked++;
          await new Promise((resolve) => res.once('drain', resolve));
        }
      }
      res.end();
      up.finished = true;
    });
    const responses: http.ServerResponse[] = [];
    const app = await proxy({ heartbeatMs: 0 }, (host) =>
      host.use((_req, res, next) => {
        responses.push(res);
        next();
      }),
    );
    const client = timedPost(app.url, streamBody());
    const res = await client.headers;
    res.pause(); // a client that stops reading
    // Wait until the upstream stops making progress: every buffer on the way is full.
    let stalledAt = -1;
    await waitFor(
      () => {
        const stalled = up.written === stalledAt;
        stalledAt = up.written;
        return stalled;
      },
      5000,
      'the upstream to stall',
      150,
    );
    await sleep(300);
    // Still stuck: the proxy stopped reading the upstream, so nothing piles up in the proxy.
    expect(up.finished).toBe(false);
    expect(up.blocked).toBeGreaterThan(0);
    expect(up.written - stalledAt).toBeLessThanOrEqual(2);
    expect(up.written).toBeLessThan(TOTAL / 2); // what sits in socket buffers, not the whole stream
    expect(responses[0].writableLength).toBeLessThan(1024 * 1024);

    // Slow reads: a little at a time, never piling up in the proxy.
    let maxBuffered = 0;
    const received = () => client.reads.reduce((n, r) => n + r.text.length, 0);
    while (received() < TOTAL * CHUNK.length && !up.finished) {
      res.resume();
      await sleep(5);
      res.pause();
      maxBuffered = Math.max(maxBuffered, responses[0].writableLength);
    }
    res.resume();
    const body = await client.done;
    expect(body.length).toBe(TOTAL * CHUNK.length);
    expect(maxBuffered).toBeLessThan(1024 * 1024);
    await app.close();
  });
});
