/**
 * Client input an adversarial review aimed at: a `model` key the pattern match missed or saw twice,
 * request targets in absolute form, and uploads that go on after the proxy has answered.
 */
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { buildApp, listen, provider } from '../kit/app.js';
import type { TestApp } from '../kit/app.js';
import { openAiErrorShape, postJson, send, waitFor } from '../kit/client.js';
import { useUpstream } from '../kit/upstream.js';

const upstream = useUpstream();
const ADMIN_KEY = 'admin-key-0123456789';
let proxy: TestApp;
let server: Awaited<ReturnType<typeof listen>>;
let keyed: TestApp;
let keyedServer: Awaited<ReturnType<typeof listen>>;
let url: string;
/** Every socket the two proxy servers accepted, to read how much they read. */
const accepted: net.Socket[] = [];

beforeAll(async () => {
  proxy = buildApp({
    providers: [provider(upstream.baseUrl, { models: { 'gpt-test': 'upstream-gpt', same: 'same' } })],
    heartbeatMs: 0,
    bodyLimit: 1024 * 1024,
    adminKey: ADMIN_KEY,
  });
  keyed = buildApp({ providers: [provider(upstream.baseUrl)], apiKeys: ['client-key'], heartbeatMs: 0 });
  server = await listen(proxy.app);
  keyedServer = await listen(keyed.app);
  for (const s of [server, keyedServer]) s.server.on('connection', (socket: net.Socket) => accepted.push(socket));
  url = `${server.url}/llm/v1/chat/completions`;
});

afterAll(async () => {
  await server.close();
  await keyedServer.close();
  await proxy.router.close();
  await keyed.router.close();
});

beforeEach(() => {
  proxy.entries.length = 0;
});

describe('the top-level model is found by a JSON scan', () => {
  it.each([
    [
      'an escaped top-level key beside a nested "model" with the same name',
      '{"\\u006dodel":"gpt-test","metadata":{"model":"gpt-test"},"messages":[]}',
      '{"\\u006dodel":"upstream-gpt","metadata":{"model":"gpt-test"},"messages":[]}',
    ],
    [
      'every letter escaped, "model" text in a string value',
      '{"messages":[{"role":"user","content":"x\\"model\\":\\"gpt-test"}], "\\u006d\\u006f\\u0064\\u0065\\u006c" : "gpt-test" }',
      '{"messages":[{"role":"user","content":"x\\"model\\":\\"gpt-test"}], "\\u006d\\u006f\\u0064\\u0065\\u006c" : "upstream-gpt" }',
    ],
    [
      'a nested model key first, spacing and number formats kept',
      '{ "tools" : [ { "model" : "gpt-test" } ] ,\n "model":"gpt-test", "n": 1.0 }',
      '{ "tools" : [ { "model" : "gpt-test" } ] ,\n "model":"upstream-gpt", "n": 1.0 }',
    ],
  ])('the upstream receives the mapped name and every other byte as sent: %s', async (_name, raw, expected) => {
    const res = await postJson(url, raw);
    expect(res.status).toBe(200);
    expect(upstream.requests).toHaveLength(1);
    expect(upstream.requests[0].body).toBe(expected);
    expect(upstream.requests[0].json).toEqual({ ...JSON.parse(raw), model: 'upstream-gpt' });
  });

  it.each([
    ['spelled the same', '{"model":"gpt-test","messages":[],"model":"gpt-test"}'],
    ['one escaped, mapped model last', '{"model":"not-served","\\u006dodel":"gpt-test","messages":[]}'],
    ['one escaped, both served', '{"\\u006dodel":"gpt-test","messages":[],"model":"same"}'],
    ['a model mapped to its own name', '{"model":"same","model":"same"}'],
    ['one escaped and served, the last one not served', '{"\\u006dodel":"gpt-test","messages":[],"model":"not-served"}'],
  ])('a body with two top-level model keys gets 400 duplicate_key and nothing reaches the upstream: %s', async (_name, raw) => {
    const res = await postJson(url, raw);
    expect(res.status).toBe(400);
    expect(res.json).toEqual(openAiErrorShape('duplicate_key', 'invalid_request_error', 'model'));
    expect(upstream.requests).toHaveLength(0);
  });
});

/** Sends one request whose target is in absolute form (`POST http://host/path HTTP/1.1`). */
function absolute(method: string, path: string, body?: string): ReturnType<typeof send> {
  const { host } = new URL(server.url);
  return send(server.url, { method, path: `http://${host}${path}`, body, headers: body === undefined ? {} : { 'content-type': 'application/json' } });
}

describe('request targets in absolute form', () => {
  it('routes POST http://host/llm/v1/chat/completions like the origin form, and logs the path alone', async () => {
    const res = await absolute('POST', '/llm/v1/chat/completions', JSON.stringify({ model: 'gpt-test', messages: [] }));
    expect(res.status).toBe(200);
    expect(res.json?.model).toBe('upstream-gpt');
    expect(upstream.requests).toHaveLength(1);
    expect(await waitFor(() => proxy.entries.length > 0)).toBe(true);
    expect(proxy.entries[0]).toMatchObject({ path: '/llm/v1/chat/completions', status: 200, message: 'POST /llm/v1/chat/completions 200' });
  });

  it('serves GET http://host/llm/v1/models', async () => {
    const res = await absolute('GET', '/llm/v1/models?x=1');
    expect(res.status).toBe(200);
    expect(res.json?.data.map((m: { id: string }) => m.id).sort()).toEqual(['gpt-test', 'same']);
    expect(await waitFor(() => proxy.entries.length > 0)).toBe(true);
    expect(proxy.entries[0]).toMatchObject({ path: '/llm/v1/models' });
  });

  it('answers an unknown route under the prefix with the OpenAI 404, naming the path without scheme or host', async () => {
    const res = await absolute('POST', '/llm/v1/nope', '{}');
    expect(res.status).toBe(404);
    expect(res.json).toEqual(openAiErrorShape('unknown_route'));
    expect(res.json?.error.message).toBe('Unknown route POST /v1/nope');
  });
});

interface Upload {
  /** The response head and whatever body came, as text. */
  response(): string;
  /** Resolves once the connection is closed, whoever closed it. */
  closed: Promise<void>;
  /** Bytes of body this client managed to hand to its socket. */
  written(): number;
  destroy(): void;
}

const PIECE = Buffer.alloc(64 * 1024, 'x');
/** Stops a client the proxy never cuts off; far more than any bound below. */
const CLIENT_MAX = 2 * 1024 ** 3;

/**
 * A client that sends headers, then body bytes for as long as the socket takes them (chunked, or
 * raw after a huge content-length), reading whatever the proxy answers meanwhile.
 */
function endlessUpload(base: string, path: string, headers: Record<string, string>, framing: 'chunked' | 'length'): Upload {
  const { port } = new URL(base);
  const socket = net.connect(Number(port), '127.0.0.1');
  let written = 0;
  let response = '';
  socket.on('data', (chunk: Buffer) => (response += chunk.toString('latin1')));
  socket.on('error', () => {}); // a reset is one way for the proxy to stop the upload
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
  const length = framing === 'chunked' ? 'transfer-encoding: chunked\r\n' : `content-length: ${10 ** 12}\r\n`;
  socket.write(`POST ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\n${lines.join('')}${length}\r\n`);
  const frame = (bytes: Buffer): Buffer => (framing === 'chunked' ? Buffer.concat([Buffer.from(`${bytes.length.toString(16)}\r\n`), bytes, Buffer.from('\r\n')]) : bytes);
  const first = frame(Buffer.from('{"model":"gpt-test","pad":"'));
  const piece = frame(PIECE);
  socket.write(first);
  const pump = (): void => {
    while (!socket.destroyed && written < CLIENT_MAX) {
      written += PIECE.length;
      if (!socket.write(piece)) {
        socket.once('drain', pump);
        return;
      }
    }
  };
  socket.once('connect', pump);
  return { response: () => response, closed, written: () => written, destroy: () => socket.destroy() };
}

/** The proxy-side socket of the last connection accepted. */
const lastAccepted = (): net.Socket => accepted[accepted.length - 1];

describe('an answer given while the client is still uploading closes the connection', () => {
  const json = { 'content-type': 'application/json' };
  const cases: [string, () => string, string, Record<string, string>, 'chunked' | 'length', number, string][] = [
    ['413 for a chunked body that grows over bodyLimit', () => server.url, '/llm/v1/chat/completions', json, 'chunked', 413, 'request_too_large'],
    ['413 for a declared content-length over bodyLimit', () => server.url, '/llm/v1/chat/completions', json, 'length', 413, 'request_too_large'],
    ['415 for a content type that is not JSON', () => server.url, '/llm/v1/chat/completions', { 'content-type': 'text/plain' }, 'chunked', 415, 'unsupported_media_type'],
    ['401 for a bad client key', () => keyedServer.url, '/llm/v1/chat/completions', { ...json, authorization: 'Bearer wrong' }, 'chunked', 401, 'invalid_api_key'],
    ['404 for an unknown route', () => server.url, '/llm/v1/nope', json, 'chunked', 404, 'unknown_route'],
    ['405 for a wrong method on a proxy route', () => server.url, '/llm/v1/models', json, 'chunked', 405, 'method_not_allowed'],
    ['401 from the admin health routes', () => server.url, '/llm/admin/v1/health/check', { ...json, authorization: 'Bearer wrong' }, 'chunked', 401, 'invalid_api_key'],
    ['413 from the admin health routes', () => server.url, '/llm/admin/v1/health/check', { ...json, authorization: `Bearer ${ADMIN_KEY}` }, 'length', 413, 'request_too_large'],
  ];

  it.each(cases)('%s', async (_name, base, path, headers, framing, status, code) => {
    const upload = endlessUpload(base(), path, headers, framing);
    try {
      let isClosed = false;
      void upload.closed.then(() => (isClosed = true));
      // Generous: the point is that it closes at all; today's proxy reads on until the client gives up.
      expect(await waitFor(() => isClosed, 10_000)).toBe(true);
      const head = upload.response().split('\r\n\r\n')[0];
      expect(head.split('\r\n')[0]).toBe(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}`);
      expect(head.toLowerCase()).toContain('\r\nconnection: close');
      expect(upload.response()).toContain(`"code":"${code}"`);
      // What the proxy read: the 1 MB limit at most, and socket buffers, not the endless rest.
      expect(lastAccepted().bytesRead).toBeLessThan(16 * 1024 * 1024);
      expect(upload.written()).toBeLessThan(CLIENT_MAX);
    } finally {
      upload.destroy();
    }
  });

  it('keeps the connection alive when the request was complete (a GET, and a POST answered after its body)', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const ask = (method: string, path: string, body?: string) =>
        new Promise<http.IncomingMessage>((resolve, reject) => {
          const req = http.request(`${server.url}${path}`, { method, agent, headers: body === undefined ? {} : { 'content-type': 'application/json' } }, (res) => {
            res.resume();
            res.on('end', () => resolve(res));
          });
          req.on('error', reject);
          req.end(body);
        });
      const before = accepted.length;
      const models = await ask('GET', '/llm/v1/models');
      expect(models.statusCode).toBe(200);
      expect(models.headers.connection).toBe('keep-alive');
      const missing = await ask('GET', '/llm/v1/nope');
      expect(missing.statusCode).toBe(404);
      expect(missing.headers.connection).toBe('keep-alive');
      const unknownModel = await ask('POST', '/llm/v1/chat/completions', JSON.stringify({ model: 'no-such-model' }));
      expect(unknownModel.statusCode).toBe(404);
      expect(unknownModel.headers.connection).toBe('keep-alive');
      expect(accepted.length).toBe(before + 1); // all three on one connection
    } finally {
      agent.destroy();
    }
  });
});

describe('a client that leaves during its upload while earlier middleware waits', () => {
  it('is logged as 499, nothing goes upstream, and router.close() still resolves', async () => {
    let release: () => void = () => {};
    const checked = new Promise<void>((resolve) => (release = resolve));
    let asked!: () => void;
    const keyChecked = new Promise<void>((resolve) => (asked = resolve));
    const slow = buildApp({
      providers: [provider(upstream.baseUrl)],
      heartbeatMs: 0,
      // An async key check, held until the client has gone.
      apiKeys: async () => {
        asked();
        await checked;
        return true;
      },
    });
    const slowServer = await listen(slow.app);
    const serverSockets: net.Socket[] = [];
    slowServer.server.on('connection', (socket: net.Socket) => serverSockets.push(socket));
    try {
      const before = upstream.requests.length;
      const socket = net.connect(Number(new URL(slowServer.url).port), '127.0.0.1');
      await new Promise((resolve) => socket.once('connect', resolve));
      socket.write('POST /llm/v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer k\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{"model":"gpt-test",');
      await keyChecked;
      socket.destroy();
      // The server has seen the client go before the key check answers.
      await new Promise((resolve) => (serverSockets[0].destroyed ? resolve(undefined) : serverSockets[0].once('close', resolve)));
      release();
      expect(await waitFor(() => slow.entries.length === 1, 2000)).toBe(true);
      expect(slow.entries[0]).toMatchObject({ status: 499, error_kind: 'client_disconnect' });
      expect(upstream.requests.length).toBe(before);
      let timer: NodeJS.Timeout | undefined;
      const pending = new Promise((resolve) => (timer = setTimeout(() => resolve('pending'), 2000)));
      const closed = await Promise.race([slow.router.close({ graceMs: 100 }).then(() => 'closed'), pending]);
      clearTimeout(timer);
      expect(closed).toBe('closed');
    } finally {
      await slowServer.close();
      await slow.router.close();
    }
  });
});

describe('a method a route does not take', () => {
  it('gets 405 with an x-request-id, and its log entry names the API', async () => {
    const before = proxy.entries.length;
    const res = await send(`${server.url}/llm/v1/messages`, { method: 'PUT' });
    expect(res.status).toBe(405);
    expect(res.headers['x-request-id']).toEqual(expect.any(String));
    expect(await waitFor(() => proxy.entries.length > before, 2000)).toBe(true);
    expect(proxy.entries.at(-1)).toMatchObject({ status: 405, api: 'messages' });
  });
});
