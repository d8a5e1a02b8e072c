/** Request ids, secrets kept out of logs, a logger that throws, and who logs when both host and router do. */
import http from 'node:http';
import request from 'supertest';
import { buildApp as buildKitApp, captureLogger, listen, provider, SECRET } from '../kit/app.js';
import { chunkEvent, okJson, refusedPort, sleep, useUpstream } from '../kit/upstream.js';
import { closeAfterEach, waitFor } from '../kit/stream-client.js';
import { requestLogger } from '../../lib/index.js';

const track = closeAfterEach();
/** The kit's app, its router closed after each test even when the test fails. */
const buildApp: typeof buildKitApp = (...args) => {
  const built = buildKitApp(...args);
  built.router.close = track(built.router.close.bind(built.router));
  return built;
};

const upstream = useUpstream(okJson);

const PATH = '/llm/v1/chat/completions';
const chat = (extra: Record<string, unknown> = {}) => ({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }], ...extra });
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

async function settled(entries: Record<string, unknown>[], n = 1): Promise<void> {
  await waitFor(() => entries.length >= n, 3000, `${n} log entries`);
  await sleep(30);
}

describe('request id', () => {
  it('keeps a well-formed incoming x-request-id: on the response, upstream and in the log', async () => {
    const { app, router, entries } = buildApp({ providers: [provider(upstream.baseUrl)] });
    const id = 'req_01H.abc-DEF_9';
    const res = await request(app).post(PATH).set('x-request-id', id).send(chat()).expect(200);
    expect(res.headers['x-request-id']).toBe(id);
    expect(upstream.requests[0].headers['x-request-id']).toBe(id);
    await settled(entries);
    expect(entries[0].request_id).toBe(id);
    await router.close();
  });

  it('keeps an id of exactly 128 characters', async () => {
    const { app, router } = buildApp({ providers: [provider(upstream.baseUrl)] });
    const id = 'a'.repeat(128);
    const res = await request(app).post(PATH).set('x-request-id', id).send(chat()).expect(200);
    expect(res.headers['x-request-id']).toBe(id);
    await router.close();
  });

  it.each([
    ['129 characters', 'a'.repeat(129)],
    ['a space', 'a b'],
    ['a slash', 'a/b'],
    ['unicode', 'é'],
  ])('replaces an id with %s by a UUID, everywhere', async (_name, id) => {
    const { app, router, entries } = buildApp({ providers: [provider(upstream.baseUrl)] });
    const res = await request(app).post(PATH).set('x-request-id', id).send(chat()).expect(200);
    expect(res.headers['x-request-id']).toMatch(UUID);
    expect(upstream.requests[0].headers['x-request-id']).toBe(res.headers['x-request-id']);
    await settled(entries);
    expect(entries[0].request_id).toBe(res.headers['x-request-id']);
    await router.close();
  });

  it('replaces a CRLF-laden id (as a host middleware or a lenient parser may leave it) by a UUID', async () => {
    const { app, router, entries } = buildApp({ providers: [provider(upstream.baseUrl)] }, (host) =>
      host.use((req, _res, next) => {
        req.headers['x-request-id'] = 'abc\r\nset-cookie: pwned=1';
        next();
      }),
    );
    const res = await request(app).post(PATH).send(chat()).expect(200);
    expect(res.headers['x-request-id']).toMatch(UUID);
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(upstream.requests[0].headers['x-request-id']).toBe(res.headers['x-request-id']);
    expect(upstream.requests[0].headers['set-cookie']).toBeUndefined();
    await settled(entries);
    expect(entries[0].request_id).toBe(res.headers['x-request-id']);
    await router.close();
  });

  it('replaces repeated x-request-id headers by a UUID', async () => {
    const { app, router } = buildApp({ providers: [provider(upstream.baseUrl)] });
    const server = await listen(app);
    server.close = track(server.close);
    const payload = JSON.stringify(chat());
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = http.request(server.url + PATH, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': ['one', 'two'] } }, resolve);
      req.on('error', reject);
      req.end(payload);
    });
    res.resume();
    expect(res.statusCode).toBe(200);
    expect(res.headers['x-request-id']).toMatch(UUID);
    await server.close();
    await router.close();
  });

  it('generates a UUID for a request without one, different each time', async () => {
    const { app, router } = buildApp({ providers: [provider(upstream.baseUrl)] });
    const a = await request(app).post(PATH).send(chat()).expect(200);
    const b = await request(app).post(PATH).send(chat()).expect(200);
    expect(a.headers['x-request-id']).toMatch(UUID);
    expect(b.headers['x-request-id']).toMatch(UUID);
    expect(a.headers['x-request-id']).not.toBe(b.headers['x-request-id']);
    await router.close();
  });
});

describe('secrets stay out of the log', () => {
  it('never logs the provider key or the client authorization, whatever happens', async () => {
    const clientKey = 'client-key-0123456789-do-not-log';
    const { app, router, entries } = buildApp({ providers: [provider(upstream.baseUrl)], apiKeys: [clientKey] });
    await request(app).post(PATH).set('authorization', `Bearer ${clientKey}`).send(chat()).expect(200);
    await request(app).post(PATH).set('authorization', 'Bearer wrong-key-also-secret').send(chat()).expect(401);
    upstream.setHandler((_req, res) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end('{"error":{"message":"upstream failed","type":"server_error","param":null,"code":null}}');
    });
    await request(app).post(PATH).set('authorization', `Bearer ${clientKey}`).send(chat({ stream: true })).expect(500);
    await settled(entries, 3);
    const port = await refusedPort();
    const refused = buildApp({ providers: [provider(`http://127.0.0.1:${port}/v1`)], apiKeys: [clientKey] });
    await request(refused.app).post(PATH).set('authorization', `Bearer ${clientKey}`).send(chat()).expect(502);
    await settled(refused.entries);
    const logged = JSON.stringify([...entries, ...refused.entries]);
    expect(logged).not.toContain(SECRET);
    expect(logged).not.toContain(clientKey);
    expect(logged).not.toContain('wrong-key-also-secret');
    expect(logged.toLowerCase()).not.toContain('authorization');
    expect(logged).not.toContain('"messages"'); // no request bodies either
    await router.close();
    await refused.router.close();
  });
});

describe('a logger that throws', () => {
  it('does not break plain or streaming requests', async () => {
    let calls = 0;
    const logger = {
      log() {
        calls++;
        throw new Error('log sink down');
      },
    };
    const { app, router } = buildApp({ providers: [provider(upstream.baseUrl)], logger });
    const plain = await request(app).post(PATH).send(chat()).expect(200);
    expect(plain.body.model).toBe('upstream-gpt');
    upstream.setHandler((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(chunkEvent('upstream-gpt', 'x') + 'data: [DONE]\n\n');
    });
    const streamed = await request(app).post(PATH).send(chat({ stream: true })).expect(200);
    expect(streamed.text).toContain('data: [DONE]');
    await waitFor(() => calls >= 2);
    // and the app keeps serving
    await request(app).get('/healthz').expect(200);
    await router.close();
  });
});

describe('who logs', () => {
  it('writes exactly one entry per proxied request when the host also mounts requestLogger app-wide', async () => {
    const host = captureLogger();
    const { app, router, entries } = buildApp({ providers: [provider(upstream.baseUrl)] }, (h) => h.use(requestLogger({ logger: host.logger })));
    const res = await request(app).post(`${PATH}?q=1`).send(chat()).expect(200);
    await request(app).get('/healthz').expect(200);
    await waitFor(() => host.entries.length + entries.length >= 2);
    await sleep(50);
    const proxied = [...host.entries, ...entries].filter((entry) => entry.path === PATH);
    expect(proxied).toHaveLength(1);
    // the outer logger owns it, with everything the proxy learned
    expect(host.entries.find((entry) => entry.path === PATH)).toMatchObject({
      status: 200,
      request_id: res.headers['x-request-id'],
      provider: 'mock',
      model: 'gpt-test',
      upstream_model: 'upstream-gpt',
    });
    expect(host.entries.find((entry) => entry.path === '/healthz')).toMatchObject({ status: 200, method: 'GET' });
    await router.close();
  });

  it('writes nothing from the router with logRequests: false', async () => {
    const { app, router, entries } = buildApp({ providers: [provider(upstream.baseUrl)], logRequests: false });
    await request(app).post(PATH).send(chat()).expect(200);
    await request(app).post(PATH).send(chat({ model: 'nobody' })).expect(404);
    await sleep(100);
    expect(entries).toEqual([]);
    await router.close();
  });

  it('logs nothing but the request with logRequests: false under an app-wide requestLogger', async () => {
    const host = captureLogger();
    const { app, router, entries } = buildApp({ providers: [provider(upstream.baseUrl)], logRequests: false }, (h) => h.use(requestLogger({ logger: host.logger })));
    await request(app).post(PATH).send(chat()).expect(200);
    await settled(host.entries);
    expect(entries).toEqual([]);
    expect(host.entries).toHaveLength(1);
    expect(host.entries[0]).toMatchObject({ path: PATH, provider: 'mock' });
    await router.close();
  });
});
