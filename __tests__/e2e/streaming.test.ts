/** Streaming through the router against a real upstream on 127.0.0.1:0, read by a raw node:http client. */
import type http from 'node:http';
import { performance } from 'node:perf_hooks';
import zlib from 'node:zlib';
import compression from 'compression';
import { buildApp, listen, provider } from '../kit/app.js';
import type { UpstreamHandler } from '../kit/upstream.js';
import { chunkEvent, sleep, useUpstream } from '../kit/upstream.js';
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

/** Flushes headers, holds `holdMs`, then sends `count` chunks `gapMs` apart and `[DONE]`. */
function streamer(holdMs: number, count: number, gapMs: number, marks: { headers?: number; writes: number[] } = { writes: [] }): UpstreamHandler {
  return async (_req, res, request) => {
    sseHead(res);
    marks.headers = performance.now();
    await sleep(holdMs);
    for (let i = 0; i < count; i++) {
      if (i > 0) await sleep(gapMs);
      if (res.destroyed) return;
      res.write(chunkEvent(String(request.json?.model), `tok${i}`));
      marks.writes.push(performance.now());
    }
    res.end('data: [DONE]\n\n');
  };
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
  it('sends status and headers at once while the upstream holds its first token for 500 ms', async () => {
    const marks: { headers?: number; writes: number[] } = { writes: [] };
    upstream.setHandler(streamer(500, 2, 10, marks));
    const app = await proxy();
    const client = timedPost(app.url, streamBody());
    const res = await client.headers;
    // The upstream flushed its headers at marks.headers and holds the first token for 500 ms.
    expect(res.headersAt - marks.headers!).toBeLessThan(100);
    expect(res.headersAt - client.sentAt).toBeLessThan(250);
    expect(client.reads).toHaveLength(0);
    expectSseHeaders(res);
    const body = await client.done;
    expect(client.reads[0].at - res.headersAt).toBeGreaterThan(350);
    expect(sseData(body)).toHaveLength(3);
    await app.close();
  });

  it('never forwards a stale content-encoding from a gzip SSE upstream, and still streams', async () => {
    upstream.setHandler(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'content-encoding': 'gzip' });
      const gzip = zlib.createGzip();
      gzip.pipe(res);
      for (let i = 0; i < 3; i++) {
        gzip.write(`data: {"n":${i}}\n\n`);
        gzip.flush();
        await sleep(100);
      }
      gzip.end('data: [DONE]\n\n');
    });
    const app = await proxy();
    const client = timedPost(app.url, streamBody());
    const res = await client.headers;
    expect(res.headers['content-encoding']).toBeUndefined();
    expect(res.headers['content-length']).toBeUndefined();
    const body = await client.done;
    expect(body).toBe('data: {"n":0}\n\ndata: {"n":1}\n\ndata: {"n":2}\n\ndata: [DONE]\n\n');
    expect(client.reads.length).toBeGreaterThanOrEqual(3);
    expect(client.reads.at(-1)!.at - client.reads[0].at).toBeGreaterThan(150);
    await app.close();
  });

  it('preserves inter-chunk timing: 10 chunks 50 ms apart arrive one by one, not in a burst', async () => {
    const marks: { headers?: number; writes: number[] } = { writes: [] };
    upstream.setHandler(streamer(0, 10, 50, marks));
    const app = await proxy();
    const client = timedPost(app.url, streamBody());
    await client.headers;
    const body = await client.done;
    const chunkReads = client.reads.filter((r) => r.text.includes('chat.completion.chunk'));
    // each chunk is its own read, holding exactly one event
    expect(chunkReads).toHaveLength(10);
    for (const [i, read] of chunkReads.entries()) {
      expect(sseData(read.text)).toHaveLength(1);
      expect(read.text).toContain(`tok${i}`);
    }
    const times = chunkReads.map((r) => r.at);
    expect(times[9] - times[0]).toBeGreaterThanOrEqual(300); // 450 ms when unbuffered
    const gaps = times.slice(1).map((t, i) => t - times[i]);
    expect(gaps.filter((gap) => gap >= 20).length).toBeGreaterThanOrEqual(6);
    // each chunk reached the client soon after the upstream wrote it
    const lags = times.map((t, i) => t - marks.writes[i]);
    expect(Math.max(...lags)).toBeLessThan(150);
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
    upstream.setHandler(streamer(0, 10, 50));
    const app = await proxy({}, (host) => host.use(compression()));
    const client = timedPost(app.url, streamBody(), { 'accept-encoding': 'gzip' }, 'latin1');
    const res = await client.headers;
    expect(res.headers['content-encoding']).toBe('gzip'); // compression is really active
    // Decode as it arrives: each sync-flushed gzip piece must decode to whole events right away.
    const decoded: { at: number; text: string }[] = [];
    const gunzip = zlib.createGunzip({ flush: zlib.constants.Z_SYNC_FLUSH });
    gunzip.on('data', (data: Buffer) => decoded.push({ at: performance.now(), text: data.toString('utf8') }));
    const ended = new Promise((resolve) => gunzip.once('end', resolve));
    let fed = 0;
    const feed = () => {
      for (; fed < client.reads.length; fed++) gunzip.write(Buffer.from(client.reads[fed].text, 'latin1'));
    };
    res.on('data', feed);
    await client.done;
    feed();
    gunzip.end();
    await ended;
    const chunks = decoded.filter((d) => d.text.includes('chat.completion.chunk'));
    expect(chunks.length).toBeGreaterThanOrEqual(8);
    expect(chunks.at(-1)!.at - chunks[0].at).toBeGreaterThanOrEqual(300);
    expect(sseData(decoded.map((d) => d.text).join(''))).toHaveLength(11);
    await app.close();
  });
});
