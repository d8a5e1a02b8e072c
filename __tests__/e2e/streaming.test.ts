/** Streaming through the router against a real upstream on 127.0.0.1:0, read by a raw node:http client. */
import type http from 'node:http';
import zlib from 'node:zlib';
import compression from 'compression';
import { buildApp, listen, provider } from '../kit/app.js';
import type { UpstreamHandler } from '../kit/upstream.js';
import { chunkEvent, useUpstream } from '../kit/upstream.js';
import { closeAfterEach, expectSseHeaders, sseData, timedPost } from '../kit/stream-client.js';
import { failOnUnhandledErrors } from '../kit/unhandled.js';

const track = closeAfterEach();

const upstream = useUpstream(() => {});
failOnUnhandledErrors();

const PATH = '/llm/v1/chat/completions';
const streamBody = (extra: Record<string, unknown> = {}) => ({ model: 'gpt-test', stream: true, messages: [{ role: 'user', content: 'hi' }], ...extra });

/** Starts an SSE answer: status and headers flushed at once, no body yet. */
function sseHead(res: http.ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.flushHeaders();
}

/** A promise the test opens by hand. */
function gate() {
  let open = (): void => {};
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

/**
 * An SSE upstream the test drives: headers at once, then chunk `i` only once the test opens
 * `turns[i]`, then `[DONE]`. Call it after `proxy()`: its closer, which opens every turn so a
 * failed test's upstream still finishes, then runs before the app's.
 */
function steppedStreamer(count: number): { handler: UpstreamHandler; turns: ReturnType<typeof gate>[] } {
  const turns = Array.from({ length: count }, gate);
  track(async () => {
    for (const turn of turns) turn.open();
  });
  const handler: UpstreamHandler = async (_req, res, request) => {
    sseHead(res);
    for (const [i, turn] of turns.entries()) {
      await turn.opened;
      if (res.destroyed) return;
      res.write(chunkEvent(String(request.json?.model), `tok${i}`));
    }
    res.end('data: [DONE]\n\n');
  };
  return { handler, turns };
}

/** Resolves with what `source` emits from now on until that text ends an SSE event (a blank line). */
function nextEvent(source: NodeJS.EventEmitter): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const onData = (data: string | Buffer): void => {
      text += data.toString();
      if (!text.endsWith('\n\n')) return;
      source.removeListener('data', onData);
      resolve(text);
    };
    source.on('data', onData);
  });
}

/** The app listening on a real port, plus its upstream settings. */
async function proxy(options: Parameters<typeof buildApp>[0] extends infer O ? Omit<O & object, 'providers'> : never = {}, setup?: Parameters<typeof buildApp>[1]) {
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


describe('streaming: headers and chunks', () => {
  it('sends status and headers at once, while the upstream still holds its first token', async () => {
    const app = await proxy();
    const { handler, turns } = steppedStreamer(2);
    upstream.setHandler(handler);
    const client = timedPost(app.url, streamBody());
    // The upstream writes no token before the test says so: headers held back for one never come.
    const res = await client.headers;
    expect(client.reads).toHaveLength(0);
    expectSseHeaders(res);
    const first = nextEvent(res);
    turns[0].open();
    expect(sseData(await first)).toHaveLength(1);
    turns[1].open();
    const body = await client.done;
    expect(sseData(body)).toHaveLength(3);
    expect(body).toContain('tok0');
    await app.close();
  });

  it('never forwards a stale content-encoding from a gzip SSE upstream, and still streams', async () => {
    const app = await proxy();
    const turns = Array.from({ length: 3 }, gate);
    track(async () => {
      for (const turn of turns) turn.open();
    });
    upstream.setHandler(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'content-encoding': 'gzip' });
      res.flushHeaders();
      const gzip = zlib.createGzip();
      gzip.pipe(res);
      for (const [i, turn] of turns.entries()) {
        await turn.opened;
        gzip.write(`data: {"n":${i}}\n\n`);
        gzip.flush();
      }
      gzip.end('data: [DONE]\n\n');
    });
    const client = timedPost(app.url, streamBody());
    const res = await client.headers;
    expect(res.headers['content-encoding']).toBeUndefined();
    expect(res.headers['content-length']).toBeUndefined();
    // Each event reaches the client decoded before the upstream sends the next: nothing waits for more.
    for (const [i, turn] of turns.entries()) {
      const event = nextEvent(res);
      turn.open();
      expect(await event).toBe(`data: {"n":${i}}\n\n`);
    }
    const body = await client.done;
    expect(body).toBe('data: {"n":0}\n\ndata: {"n":1}\n\ndata: {"n":2}\n\ndata: [DONE]\n\n');
    expect(client.reads.length).toBeGreaterThanOrEqual(3);
    await app.close();
  });

  it('forwards chunk by chunk: each of 10 chunks reaches the client, one event per read, before the upstream writes the next', async () => {
    const app = await proxy();
    const { handler, turns } = steppedStreamer(10);
    upstream.setHandler(handler);
    const client = timedPost(app.url, streamBody());
    const res = await client.headers;
    for (const [i, turn] of turns.entries()) {
      const readsBefore = client.reads.length;
      const event = nextEvent(res);
      turn.open();
      const text = await event;
      expect(sseData(text)).toHaveLength(1);
      expect(text).toContain(`tok${i}`);
      expect(client.reads[readsBefore].text).toBe(text); // one read, holding exactly this event
    }
    const body = await client.done;
    expect(sseData(body)).toHaveLength(11);
    expect(sseData(body).at(-1)).toBe('[DONE]');
    await app.close();
  });

  it('passes an upstream 429 to a stream request through, body byte for byte', async () => {
    const raw = '{"error": {"message": "Rate limit reached", "type": "requests", "param": null, "code": "rate_limit_exceeded"}}\n';
    upstream.setHandler((_req, res) => {
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '7', 'x-ratelimit-remaining-requests': '0' });
      res.end(raw);
    });
    const app = await proxy();
    const client = timedPost(app.url, streamBody());
    const res = await client.headers;
    expect(res.statusCode).toBe(429);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.headers['retry-after']).toBe('7');
    expect(res.headers['x-ratelimit-remaining-requests']).toBe('0');
    expect(await client.done).toBe(raw);
    await app.close();
  });

  it('streams chunk by chunk through a host app that uses compression()', async () => {
    const app = await proxy({}, (host) => host.use(compression()));
    const { handler, turns } = steppedStreamer(10);
    upstream.setHandler(handler);
    const client = timedPost(app.url, streamBody(), { 'accept-encoding': 'gzip' }, 'latin1');
    const res = await client.headers;
    expect(res.headers['content-encoding']).toBe('gzip'); // compression is really active
    // Decode as it arrives: each sync-flushed gzip piece must decode to whole events right away.
    const gunzip = zlib.createGunzip({ flush: zlib.constants.Z_SYNC_FLUSH });
    const decoded: string[] = [];
    gunzip.on('data', (data: Buffer) => decoded.push(data.toString('utf8')));
    const ended = new Promise((resolve) => gunzip.once('end', resolve));
    res.on('data', (text: string) => gunzip.write(Buffer.from(text, 'latin1')));
    // Each chunk is decoded at the client before the upstream writes the next: compression flushed it.
    for (const [i, turn] of turns.entries()) {
      const event = nextEvent(gunzip);
      turn.open();
      const text = await event;
      expect(sseData(text)).toHaveLength(1);
      expect(text).toContain(`tok${i}`);
    }
    await client.done;
    gunzip.end();
    await ended;
    expect(sseData(decoded.join(''))).toHaveLength(11);
    await app.close();
  });
});
