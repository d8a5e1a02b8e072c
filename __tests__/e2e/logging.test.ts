/** The request log: one winston entry per proxied request, with timing fields that say what they measure. */
import type http from 'node:http';
import { performance } from 'node:perf_hooks';
import request from 'supertest';
import { buildApp as buildKitApp, listen, provider } from '../kit/app.js';
import { chunkEvent, completion, okJson, refusedPort, sleep, useUpstream } from '../kit/upstream.js';
import { closeAfterEach, timedPost, waitFor } from '../kit/stream-client.js';
import { failOnUnhandledErrors } from '../kit/unhandled.js';

const track = closeAfterEach();
/** The kit's app, its router closed after each test even when the test fails. */
const buildApp: typeof buildKitApp = (...args) => {
  const built = buildKitApp(...args);
  built.router.close = track(built.router.close.bind(built.router));
  return built;
};

const upstream = useUpstream(okJson);
failOnUnhandledErrors();

const PATH = '/llm/v1/chat/completions';
const chat = (extra: Record<string, unknown> = {}) => ({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }], ...extra });

/**
 * The logger's rounding, to 0.1 ms. It is monotonic, so a logged interval that lies inside an
 * interval the test saw (the client sent before the proxy started, and got each thing after the
 * proxy marked it) is at most `tenth` of the test's: a bound that no load can break.
 */
const tenth = (ms: number) => Math.round(ms * 10) / 10;

/** True when `ms` is a number rounded to 0.1 ms. */
const roundedToTenth = (ms: unknown) => typeof ms === 'number' && Number.isFinite(ms) && Math.abs(ms * 10 - Math.round(ms * 10)) < 1e-6;

/** Waits for `n` entries, then a little longer to catch a duplicate. */
async function settled(entries: Record<string, unknown>[], n = 1): Promise<void> {
  await waitFor(() => entries.length >= n, 3000, `${n} log entries`);
  await sleep(30);
}

describe('request log entries', () => {
  it('logs a plain response with duration and no stream fields; path has the prefix and no query', async () => {
    const { app, router, entries } = buildApp({ providers: [provider(upstream.baseUrl)] });
    const sentAt = performance.now();
    const res = await request(app).post(`${PATH}?api-version=2024&token=abc`).send(chat()).expect(200);
    await settled(entries);
    const loggedBy = performance.now();
    expect(entries).toHaveLength(1);
    const entry = entries[0];
    expect(entry).toMatchObject({
      level: 'info',
      message: `POST ${PATH} 200`,
      method: 'POST',
      path: PATH,
      status: 200,
      request_id: res.headers['x-request-id'],
      provider: 'mock',
      model: 'gpt-test',
      upstream_model: 'upstream-gpt',
    });
    expect(roundedToTenth(entry.duration)).toBe(true);
    expect(entry.duration as number).toBeGreaterThan(0);
    expect(entry.duration as number).toBeLessThanOrEqual(tenth(loggedBy - sentAt)); // this request's time, from its arrival
    for (const field of ['ttfb', 'ttft', 'stream_duration', 'error_kind']) expect(entry).not.toHaveProperty(field);
    expect(JSON.stringify(entry)).not.toContain('token=abc');
    await router.close();
  });

  it('measures duration until the response finished, not until the headers', async () => {
    upstream.setHandler(async (_req, res, request) => {
      await sleep(200);
      okJson(_req, res, request);
    });
    const { app, router, entries } = buildApp({ providers: [provider(upstream.baseUrl)] });
    await request(app).post(PATH).send(chat()).expect(200);
    await settled(entries);
    expect(entries[0].duration as number).toBeGreaterThanOrEqual(195);
    await router.close();
  });

  it('logs a stream with ttfb, ttft and stream_duration, and never duration', async () => {
    upstream.setHandler(async (_req, res, request) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.flushHeaders();
      await sleep(300); // the first token takes 300 ms
      for (let i = 0; i < 10; i++) {
        res.write(chunkEvent(String(request.json?.model), `t${i}`));
        await sleep(50); // then the stream runs for 500 ms
      }
      res.end('data: [DONE]\n\n');
    });
    const { app, router, entries } = buildApp({ providers: [provider(upstream.baseUrl)], heartbeatMs: 0 });
    const server = await listen(app);
    server.close = track(server.close);
    const client = timedPost(server.url + PATH, chat({ stream: true }));
    const res = await client.headers;
    await client.done;
    const endedAt = performance.now();
    await settled(entries);
    expect(entries).toHaveLength(1);
    const entry = entries[0];
    expect(entry).toMatchObject({ level: 'info', method: 'POST', path: PATH, status: 200, request_id: res.headers['x-request-id'], provider: 'mock', model: 'gpt-test', upstream_model: 'upstream-gpt' });
    expect(entry).not.toHaveProperty('duration');
    for (const field of ['ttfb', 'ttft', 'stream_duration']) expect(roundedToTenth(entry[field])).toBe(true);
    const { ttfb, ttft, stream_duration: streamDuration } = entry as { ttfb: number; ttft: number; stream_duration: number };
    // Each field ends where the proxy made its mark, before the client saw that thing arrive.
    expect(ttfb).toBeLessThanOrEqual(tenth(res.headersAt - client.sentAt));
    expect(ttft).toBeGreaterThanOrEqual(295);
    expect(client.reads[0].text).toContain('"t0"'); // heartbeats are off: the first read is the first token
    expect(ttft).toBeLessThanOrEqual(tenth(client.reads[0].at - client.sentAt));
    expect(streamDuration).toBeGreaterThanOrEqual(795);
    expect(streamDuration).toBeLessThanOrEqual(tenth(endedAt - client.sentAt));
    expect(ttfb).toBeLessThan(ttft);
    await server.close();
    await router.close();
  });

  it('logs an upstream 500 at error with the upstream status', async () => {
    upstream.setHandler((_req, res) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end('{"error":{"message":"boom","type":"server_error","param":null,"code":null}}');
    });
    const { app, router, entries } = buildApp({ providers: [provider(upstream.baseUrl)] });
    await request(app).post(PATH).send(chat()).expect(500);
    await settled(entries);
    expect(entries[0]).toMatchObject({ level: 'error', status: 500, provider: 'mock' });
    expect(entries[0]).not.toHaveProperty('error_kind'); // the upstream's error, not the proxy's
    await router.close();
  });

  it('logs an upstream 4xx at warn', async () => {
    upstream.setHandler((_req, res) => {
      res.writeHead(429, { 'content-type': 'application/json' });
      res.end('{"error":{"message":"slow down","type":"requests","param":null,"code":null}}');
    });
    const { app, router, entries } = buildApp({ providers: [provider(upstream.baseUrl)] });
    await request(app).post(PATH).send(chat({ stream: true })).expect(429);
    await settled(entries);
    expect(entries[0]).toMatchObject({ level: 'warn', status: 429 });
    expect(entries[0]).toHaveProperty('duration'); // a JSON answer to a stream request is not a stream
    expect(entries[0]).not.toHaveProperty('ttfb');
    await router.close();
  });

  it('logs a refused connection as 502 with error_kind connection, at error', async () => {
    const port = await refusedPort();
    const { app, router, entries } = buildApp({ providers: [provider(`http://127.0.0.1:${port}/v1`)] });
    await request(app).post(PATH).send(chat()).expect(502);
    await settled(entries);
    expect(entries[0]).toMatchObject({ level: 'error', status: 502, error_kind: 'connection', provider: 'mock' });
    await router.close();
  });

  it('logs an upstream timeout as 504 with error_kind timeout', async () => {
    upstream.setHandler(() => {}); // never answers
    const { app, router, entries } = buildApp({ providers: [provider(upstream.baseUrl)], timeouts: { requestMs: 200 } });
    await request(app).post(PATH).send(chat()).expect(504);
    await settled(entries);
    expect(entries[0]).toMatchObject({ level: 'error', status: 504, error_kind: 'timeout' });
    await router.close();
  });

  it('logs a client that went away as 499 at info, and nothing at error', async () => {
    upstream.setHandler(() => {}); // the client gives up first
    const { app, router, entries } = buildApp({ providers: [provider(upstream.baseUrl)] });
    const server = await listen(app);
    server.close = track(server.close);
    const client = timedPost(server.url + PATH, chat());
    await waitFor(() => upstream.requests.length === 1, 2000, 'the upstream request');
    client.req.destroy();
    await settled(entries);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ level: 'info', status: 499, error_kind: 'client_disconnect', path: PATH });
    expect(entries[0]).toHaveProperty('duration');
    await upstream.socketClosed[0];
    await server.close();
    await router.close();
  });

  it('logs proxy-made 4xx answers at warn, with the model but no provider', async () => {
    const { app, router, entries } = buildApp({ providers: [provider(upstream.baseUrl)] });
    await request(app).post(PATH).send(chat({ model: 'nobody-serves-this' })).expect(404);
    await settled(entries);
    expect(entries[0]).toMatchObject({ level: 'warn', status: 404, model: 'nobody-serves-this' });
    expect(entries[0]).not.toHaveProperty('provider');
    await router.close();
  });
});

describe('server-timing', () => {
  const TIMING = /^proxy;dur=(\d+(?:\.\d+)?), upstream;dur=(\d+(?:\.\d+)?)$/;

  it('is set on proxied JSON responses, upstream;dur covering the wait for headers', async () => {
    let upstreamSawAt = 0;
    upstream.setHandler(async (_req, res, request) => {
      upstreamSawAt = performance.now();
      await sleep(150);
      okJson(_req, res, request);
    });
    const { app, router } = buildApp({ providers: [provider(upstream.baseUrl)] });
    const sentAt = performance.now();
    const res = await request(app).post(PATH).send(chat()).expect(200);
    const match = TIMING.exec(res.headers['server-timing']);
    expect(match).not.toBeNull();
    // proxy;dur ends as the upstream request leaves: before the upstream saw it (toFixed(1) may add 0.05).
    expect(Number(match![1])).toBeLessThanOrEqual(upstreamSawAt - sentAt + 0.05);
    expect(Number(match![2])).toBeGreaterThanOrEqual(145);
    await router.close();
  });

  it('is set on streaming responses, and on upstream errors passed through', async () => {
    upstream.setHandler((_req, res: http.ServerResponse) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(chunkEvent('upstream-gpt', 'x') + 'data: [DONE]\n\n');
    });
    const { app, router } = buildApp({ providers: [provider(upstream.baseUrl)] });
    const streamed = await request(app).post(PATH).send(chat({ stream: true })).expect(200);
    expect(streamed.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(streamed.headers['server-timing']).toMatch(TIMING);

    upstream.setHandler((_req, res) => {
      res.writeHead(503, { 'content-type': 'application/json', 'server-timing': 'upstream-internal;dur=1' });
      res.end(JSON.stringify(completion('x')));
    });
    const failed = await request(app).post(PATH).send(chat()).expect(503);
    expect(failed.headers['server-timing']).toMatch(TIMING);
    await router.close();
  });
});

describe('log levels', () => {
  it('builds no entry for a level the logger drops, and the rest as usual', async () => {
    const written: [string, string][] = [];
    const asked: string[] = [];
    const logger = {
      isLevelEnabled: (level: string) => (asked.push(level), level !== 'info'),
      log: (level: string, message: string) => void written.push([level, message]),
    };
    const { app, router } = buildApp({ providers: [provider(upstream.baseUrl)], logger });
    await request(app).post(PATH).send(chat()).expect(200);
    await request(app).post(PATH).send({ messages: [] }).expect(400);
    await waitFor(() => written.length === 1, 2000, 'the warn entry');
    await sleep(30);
    expect(asked).toEqual(['info', 'warn']);
    expect(written).toEqual([['warn', `POST ${PATH} 400`]]);
    await router.close();
  });
});
