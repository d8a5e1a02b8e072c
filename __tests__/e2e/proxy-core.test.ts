import zlib from 'node:zlib';
import request from 'supertest';
import express from 'express';
import { buildApp, listen, provider, rawPost, SECRET } from '../kit/app.js';
import { okJson, refusedPort, sleep, useUpstream } from '../kit/upstream.js';
import { waitFor } from '../kit/stream-client.js';

const upstream = useUpstream(okJson);

const chat = (model = 'gpt-test', extra: Record<string, unknown> = {}) => ({ model, messages: [{ role: 'user', content: 'hi' }], ...extra });

describe('proxy routes', () => {
  it('forwards chat completions with the mapped model and every other field untouched', async () => {
    const { app, router } = buildApp({ providers: [provider(upstream.baseUrl)] });
    const raw = '{"model":"gpt-test","temperature":1.0,"seed":12345678901234567890,"messages":[{"role":"user","content":"caf\\u00e9"}]}';
    const res = await request(app).post('/llm/v1/chat/completions').set('content-type', 'application/json').send(raw);
    expect(res.status).toBe(200);
    expect(res.body.model).toBe('upstream-gpt');
    expect(upstream.requests).toHaveLength(1);
    const seen = upstream.requests[0];
    expect(seen.url).toBe('/v1/chat/completions');
    expect(seen.body).toBe(raw.replace('"gpt-test"', '"upstream-gpt"'));
    expect(seen.headers.authorization).toBe(`Bearer ${SECRET}`);
    expect(seen.headers['content-type']).toBe('application/json');
    expect(seen.headers['x-request-id']).toBe(res.headers['x-request-id']);
    await router.close();
  });

  it.each([
    ['/v1/completions', '/v1/completions'],
    ['/v1/embeddings', '/v1/embeddings'],
  ])('forwards %s to <baseUrl>%s', async (route, expected) => {
    const { app, router } = buildApp({ providers: [provider(upstream.baseUrl)] });
    const res = await request(app).post(`/llm${route}`).send({ model: 'embed-test', input: 'x' });
    expect(res.status).toBe(200);
    expect(upstream.requests[0].url).toBe(expected);
    expect(upstream.requests[0].json?.model).toBe('upstream-embed');
    await router.close();
  });

  it('never forwards the client authorization, cookie or x-api-key headers', async () => {
    const { app, router } = buildApp({ providers: [provider(upstream.baseUrl, { headers: { 'X-Org': 'acme' } })] });
    await request(app)
      .post('/llm/v1/chat/completions')
      .set('authorization', 'Bearer client-key')
      .set('cookie', 'session=1')
      .set('x-api-key', 'client-x-key')
      .send(chat())
      .expect(200);
    const headers = upstream.requests[0].headers;
    expect(headers.authorization).toBe(`Bearer ${SECRET}`);
    expect(headers.cookie).toBeUndefined();
    expect(headers['x-api-key']).toBeUndefined();
    expect(headers['x-org']).toBe('acme');
    await router.close();
  });

  it('lists every client-facing model of enabled providers once', async () => {
    const { app, router } = buildApp({
      providers: [
        provider(upstream.baseUrl),
        provider(upstream.baseUrl, { id: 2, key: 'second', models: { 'gpt-test': 'x', other: 'y' } }),
        provider(upstream.baseUrl, { id: 3, key: 'off', enabled: false, models: { hidden: 'z' } }),
      ],
    });
    const res = await request(app).get('/llm/v1/models').expect(200);
    expect(res.body.object).toBe('list');
    expect(res.body.data.map((m: { id: string }) => m.id)).toEqual(['gpt-test', 'embed-test', 'other']);
    for (const model of res.body.data) {
      expect(model).toEqual({ id: expect.any(String), object: 'model', created: expect.any(Number), owned_by: expect.any(String) });
    }
    await router.close();
  });

  it('answers 404 model_not_found for a model nobody serves, without calling upstream', async () => {
    const { app, router } = buildApp({ providers: [provider(upstream.baseUrl)] });
    const res = await request(app).post('/llm/v1/chat/completions').send(chat('nope')).expect(404);
    expect(res.body.error).toMatchObject({ type: 'invalid_request_error', param: 'model', code: 'model_not_found' });
    expect(upstream.requests).toHaveLength(0);
    await router.close();
  });
});

describe('faithful passthrough', () => {
  it.each([400, 401, 404, 500, 503])('passes an upstream %i through byte for byte', async (status) => {
    const body = `{"error":{"message":"upstream says ${status}","type":"x","param":null,"code":"c${status}"}}  `;
    upstream.setHandler((_req, res) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'x-upstream-thing': 'kept' });
      res.end(body);
    });
    const { app, router } = buildApp({ providers: [provider(upstream.baseUrl)] });
    const res = await request(app).post('/llm/v1/chat/completions').send(chat()).buffer(true).parse((r, cb) => {
      let text = '';
      r.on('data', (c: Buffer) => (text += c.toString()));
      r.on('end', () => cb(null, text));
    });
    expect(res.status).toBe(status);
    expect(res.body).toBe(body);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.headers['x-upstream-thing']).toBe('kept');
    await router.close();
  });

  it('passes a 429 through with its retry-after', async () => {
    upstream.setHandler((_req, res) => {
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '7' });
      res.end('{"error":{"message":"slow down","type":"requests","param":null,"code":"rate_limit_exceeded"}}');
    });
    const { app, router } = buildApp({ providers: [provider(upstream.baseUrl)] });
    const res = await request(app).post('/llm/v1/chat/completions').send(chat());
    expect(res.status).toBe(429);
    expect(res.headers['retry-after']).toBe('7');
    expect(res.body.error.message).toBe('slow down');
    await router.close();
  });

  it('decodes a gzip upstream body and never forwards a stale content-encoding', async () => {
    const body = JSON.stringify({ hello: 'compressed world' });
    upstream.setHandler((_req, res) => {
      const gz = zlib.gzipSync(body);
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': gz.length });
      res.end(gz);
    });
    const { app, router } = buildApp({ providers: [provider(upstream.baseUrl)] });
    const res = await request(app).post('/llm/v1/chat/completions').send(chat());
    expect(res.status).toBe(200);
    expect(res.headers['content-encoding']).toBeUndefined();
    expect(res.headers['content-length']).toBe(String(Buffer.byteLength(body)));
    expect(res.body).toEqual({ hello: 'compressed world' });
    await router.close();
  });

  it('drops set-cookie and hop-by-hop headers from the upstream', async () => {
    upstream.setHandler((_req, res) => {
      res.setHeader('set-cookie', 'a=b');
      res.setHeader('keep-alive', 'timeout=5');
      res.setHeader('content-type', 'application/json');
      res.end('{}');
    });
    const { app, router } = buildApp({ providers: [provider(upstream.baseUrl)] });
    const res = await request(app).post('/llm/v1/chat/completions').send(chat()).expect(200);
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(res.headers['keep-alive']).toBeUndefined();
    await router.close();
  });
});

describe('network errors', () => {
  it('answers 502 upstream_connection_error when the upstream refuses, with no URL or key in the body', async () => {
    const port = await refusedPort();
    const { app, router } = buildApp({ providers: [provider(`http://127.0.0.1:${port}/v1`)] });
    const res = await request(app).post('/llm/v1/chat/completions').send(chat());
    expect(res.status).toBe(502);
    expect(res.body.error).toMatchObject({ type: 'proxy_error', code: 'upstream_connection_error' });
    expect(JSON.stringify(res.body)).not.toContain(String(port));
    expect(JSON.stringify(res.body)).not.toContain(SECRET);
    await router.close();
  });

  it('answers 504 upstream_timeout after requestMs when the upstream never answers', async () => {
    upstream.setHandler(() => {});
    const { app, router } = buildApp({ providers: [provider(upstream.baseUrl)], timeouts: { requestMs: 300 } });
    const started = Date.now();
    const res = await request(app).post('/llm/v1/chat/completions').send(chat());
    expect(res.status).toBe(504);
    expect(res.body.error).toMatchObject({ type: 'proxy_error', code: 'upstream_timeout' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    await upstream.socketClosed[0]; // the timeout aborted the upstream request
    await router.close();
  });

  it('aborts the upstream request when the client goes away', async () => {
    upstream.setHandler(() => {});
    const { app, router, entries } = buildApp({ providers: [provider(upstream.baseUrl)] });
    const host = await listen(app);
    const req = rawPost(`${host.url}/llm/v1/chat/completions`, chat());
    while (upstream.requests.length === 0) await sleep(5);
    req.destroy();
    await upstream.socketClosed[0]; // aborted (left open, the test fails on its timeout)
    await waitFor(() => entries.some((e) => e.status === 499), 2000, 'the 499 entry');
    const entry = entries.find((e) => e.status === 499);
    expect(entry).toMatchObject({ level: 'info', error_kind: 'client_disconnect' });
    expect(entries.filter((e) => e.level === 'error')).toEqual([]);
    await host.close();
    await router.close();
  });
});

describe('hosts', () => {
  it('copes with a host that already applied express.json()', async () => {
    const { app, router } = buildApp({ providers: [provider(upstream.baseUrl)] }, (host) => host.use(express.json()));
    const res = await request(app).post('/llm/v1/chat/completions').send(chat('gpt-test', { temperature: 0.5 }));
    expect(res.status).toBe(200);
    expect(upstream.requests[0].json).toEqual(chat('upstream-gpt', { temperature: 0.5 }));
    await request(app).get('/healthz').expect(200, { ok: true });
    await request(app).get('/after').expect(200, 'host route after the router');
    await router.close();
  });
});
