/** The same core behaviours with `fetch` set to node-fetch and to Node's global fetch. */
import zlib from 'node:zlib';
import nodeFetch from 'node-fetch';
import request from 'supertest';
import { buildApp, listen, provider, rawPost, SECRET } from '../kit/app.js';
import { okJson, refusedPort, sleep, useUpstream } from '../kit/upstream.js';
import { waitFor } from '../kit/stream-client.js';
import type { FetchLike } from '../../lib/index.js';

const upstream = useUpstream(okJson);

const chat = { model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] };
/** A supertest parser that keeps the body as the exact text received. */
const text = (r: request.Response, cb: (err: Error | null, body: string) => void) => {
  let body = '';
  (r as unknown as NodeJS.ReadableStream).on('data', (c: Buffer) => (body += c.toString()));
  r.on('end', () => cb(null, body));
};

// Both must type-check as FetchLike without a cast: that is the documented way to pass them.
const transports: [string, FetchLike][] = [
  ['node-fetch', nodeFetch],
  ['global fetch', globalThis.fetch],
];

describe.each(transports)('fetch: %s', (_name, fetchImpl) => {
  const build = (overrides: Parameters<typeof buildApp>[0]) => buildApp({ fetch: fetchImpl, ...overrides });

  it('forwards with the mapped model and the provider key', async () => {
    const { app, router } = build({ providers: [provider(upstream.baseUrl)] });
    const raw = '{"model":"gpt-test", "temperature":1.0,"messages":[]}';
    const res = await request(app).post('/llm/v1/chat/completions').set('content-type', 'application/json').send(raw).expect(200);
    expect(res.body.model).toBe('upstream-gpt');
    expect(upstream.requests[0].body).toBe(raw.replace('"gpt-test"', '"upstream-gpt"'));
    expect(upstream.requests[0].headers.authorization).toBe(`Bearer ${SECRET}`);
    await router.close();
  });

  it.each([400, 429, 500, 503])('passes an upstream %i through byte for byte', async (status) => {
    const body = `{"error":{"message":"upstream ${status}","type":"t","param":null,"code":"c"}}\n`;
    upstream.setHandler((_req, res) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'retry-after': '2' });
      res.end(body);
    });
    const { app, router } = build({ providers: [provider(upstream.baseUrl)] });
    const res = await request(app).post('/llm/v1/chat/completions').send(chat).buffer(true).parse(text);
    expect(res.status).toBe(status);
    expect(res.body).toBe(body);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.headers['retry-after']).toBe('2');
    await router.close();
  });

  it.each([
    ['gzip', zlib.gzipSync],
    ['br', zlib.brotliCompressSync],
  ] as const)('decodes a %s body and never forwards a stale content-encoding', async (encoding, compress) => {
    const body = JSON.stringify({ hello: `${encoding} world`, pad: 'p'.repeat(500) });
    upstream.setHandler((_req, res) => {
      const packed = compress(Buffer.from(body));
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': encoding, 'content-length': packed.length });
      res.end(packed);
    });
    const { app, router } = build({ providers: [provider(upstream.baseUrl)] });
    const res = await request(app).post('/llm/v1/chat/completions').send(chat).buffer(true).parse(text);
    expect(res.status).toBe(200);
    expect(res.headers['content-encoding']).toBeUndefined();
    expect(res.headers['content-length']).toBe(String(Buffer.byteLength(body)));
    expect(res.body).toBe(body);
    await router.close();
  });

  it('answers 502 upstream_connection_error when the upstream refuses', async () => {
    const port = await refusedPort();
    const { app, router } = build({ providers: [provider(`http://127.0.0.1:${port}/v1`)] });
    const res = await request(app).post('/llm/v1/chat/completions').send(chat);
    expect(res.status).toBe(502);
    expect(res.body).toEqual({ error: { message: expect.any(String), type: 'proxy_error', param: null, code: 'upstream_connection_error' } });
    expect(JSON.stringify(res.body)).not.toContain(String(port));
    await router.close();
  });

  it('answers 504 upstream_timeout after requestMs when the upstream never answers', async () => {
    upstream.setHandler(() => undefined);
    const { app, router } = build({ providers: [provider(upstream.baseUrl)], timeouts: { requestMs: 250 } });
    const started = Date.now();
    const res = await request(app).post('/llm/v1/chat/completions').send(chat);
    expect(res.status).toBe(504);
    expect(res.body.error).toMatchObject({ type: 'proxy_error', code: 'upstream_timeout' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(240);
    await upstream.socketClosed[0]; // the timeout aborted the upstream request
    await router.close();
  });

  it('answers 504 when the headers come but the body stalls past requestMs', async () => {
    upstream.setHandler((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"partial":');
    });
    const { app, router } = build({ providers: [provider(upstream.baseUrl)], timeouts: { requestMs: 250 } });
    const res = await request(app).post('/llm/v1/chat/completions').send(chat);
    expect(res.status).toBe(504);
    expect(res.body.error.code).toBe('upstream_timeout');
    await router.close();
  });

  it('aborts the upstream request when the client goes away, logging 499 at info', async () => {
    upstream.setHandler(() => undefined);
    const { app, router, entries } = build({ providers: [provider(upstream.baseUrl)] });
    const host = await listen(app);
    const req = rawPost(`${host.url}/llm/v1/chat/completions`, chat);
    while (upstream.requests.length === 0) await sleep(5);
    req.destroy();
    await upstream.socketClosed[upstream.socketClosed.length - 1]; // aborted (left open, the test fails on its timeout)
    await waitFor(() => entries.some((e) => e.status === 499), 2000, 'the 499 entry');
    expect(entries.find((e) => e.status === 499)).toMatchObject({ level: 'info' });
    expect(entries.filter((e) => e.level === 'error')).toEqual([]);
    await host.close();
    await router.close();
  });
});
