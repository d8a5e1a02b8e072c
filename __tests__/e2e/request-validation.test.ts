/** Bad requests get OpenAI-shaped errors from the proxy itself and never reach the upstream. */
import http from 'node:http';
import request from 'supertest';
import { buildApp, listen, provider } from '../kit/app.js';
import { chunkEvent, okJson, useUpstream } from '../kit/upstream.js';

const upstream = useUpstream(okJson);

const shape = (code: string | null, param: string | null = null) => ({ error: { message: expect.any(String), type: 'invalid_request_error', param, code } });

describe('body limit', () => {
  it('answers 413 request_too_large for a body over bodyLimit', async () => {
    const { app, router } = buildApp({ providers: [provider(upstream.baseUrl)], bodyLimit: '1kb' });
    const res = await request(app).post('/llm/v1/chat/completions').send({ model: 'gpt-test', messages: [{ role: 'user', content: 'x'.repeat(2048) }] });
    expect(res.status).toBe(413);
    expect(res.body).toEqual(shape('request_too_large'));
    expect(upstream.requests).toHaveLength(0);
    await router.close();
  });

  it('answers 413 for a chunked body that grows over the limit, and the client reads it', async () => {
    const { app, router } = buildApp({ providers: [provider(upstream.baseUrl)], bodyLimit: 1024 });
    const host = await listen(app);
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(`${host.url}/llm/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.write('{"model":"gpt-test","pad":"');
      for (let i = 0; i < 8; i++) req.write('y'.repeat(256));
      req.end('"}');
    });
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toEqual(shape('request_too_large'));
    expect(upstream.requests).toHaveLength(0);
    await host.close();
    await router.close();
  });

  it('accepts a body just under the limit', async () => {
    const { app, router } = buildApp({ providers: [provider(upstream.baseUrl)], bodyLimit: '1kb' });
    const body = JSON.stringify({ model: 'gpt-test', pad: '' });
    const padded = JSON.stringify({ model: 'gpt-test', pad: 'z'.repeat(1024 - body.length) });
    expect(padded.length).toBe(1024);
    await request(app).post('/llm/v1/chat/completions').set('content-type', 'application/json').send(padded).expect(200);
    expect(upstream.requests).toHaveLength(1);
    await router.close();
  });
});

describe('malformed requests', () => {
  it.each<[string, string, string | null, string | null]>([
    ['malformed JSON', '{"model": "gpt-test",', 'invalid_json', null],
    ['a JSON array', '[{"model":"gpt-test"}]', 'invalid_body', null],
    ['a JSON number', '42', 'invalid_body', null],
    ['JSON null', 'null', 'invalid_body', null],
    ['a JSON string', '"gpt-test"', 'invalid_body', null],
    ['an empty body', '', 'invalid_json', null],
    ['a missing model', '{"messages":[]}', 'missing_model', 'model'],
    ['a null model', '{"model":null}', 'missing_model', 'model'],
    ['a numeric model', '{"model":4}', 'invalid_model', 'model'],
    ['an empty model', '{"model":""}', 'invalid_model', 'model'],
    ['an object model', '{"model":{"name":"gpt-test"}}', 'invalid_model', 'model'],
    ['a non-boolean stream', '{"model":"gpt-test","stream":"yes"}', 'invalid_type', 'stream'],
  ])('answers 400 invalid_request_error for %s', async (_name, body, code, param) => {
    const { app, router } = buildApp({ providers: [provider(upstream.baseUrl)] });
    const res = await request(app).post('/llm/v1/chat/completions').set('content-type', 'application/json').send(body);
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body).toEqual(shape(code, param));
    expect(upstream.requests).toHaveLength(0);
    await router.close();
  });

  it('answers 400 for an array even when the host parsed JSON itself', async () => {
    const express = (await import('express')).default;
    const { app, router } = buildApp({ providers: [provider(upstream.baseUrl)] }, (host) => host.use(express.json({ strict: false })));
    const res = await request(app).post('/llm/v1/embeddings').set('content-type', 'application/json').send('[1,2]');
    expect(res.status).toBe(400);
    expect(res.body.error.type).toBe('invalid_request_error');
    await router.close();
  });
});

describe('stream: true', () => {
  it('has a route: an SSE upstream answer reaches the client as an event stream, bytes unchanged', async () => {
    const events = [chunkEvent('upstream-gpt', 'Hel'), chunkEvent('upstream-gpt', 'lo', 'stop'), 'data: [DONE]\n\n'];
    upstream.setHandler((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      for (const event of events) res.write(event);
      res.end();
    });
    const { app, router } = buildApp({ providers: [provider(upstream.baseUrl)], heartbeatMs: 0 });
    const res = await request(app).post('/llm/v1/chat/completions').send({ model: 'gpt-test', stream: true, messages: [] }).buffer(true).parse((r, cb) => {
      let text = '';
      r.on('data', (c: Buffer) => (text += c.toString()));
      r.on('end', () => cb(null, text));
    });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(res.body).toBe(events.join(''));
    expect(upstream.requests[0].json).toMatchObject({ model: 'upstream-gpt', stream: true });
    await router.close();
  });
});
