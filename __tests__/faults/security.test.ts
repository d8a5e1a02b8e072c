/**
 * Nothing leaks across the proxy: client credentials stay out of upstream requests, harmful
 * upstream headers stay out of client responses, and the provider key and base URL stay out of
 * everything the proxy writes itself.
 */
import net from 'node:net';
import { buildApp, listen, provider, SECRET } from '../kit/app.js';
import type { TestApp } from '../kit/app.js';
import { leaks, openAiErrorShape, postJson, seenBodies } from '../kit/client.js';
import { BODIES, startFaultUpstream } from '../kit/fault-upstream.js';
import type { FaultUpstream } from '../kit/fault-upstream.js';

const CLIENT_HEADERS = {
  authorization: 'Bearer client-key-should-stay-here',
  cookie: 'session=client-cookie',
  'x-api-key': 'client-x-api-key',
  'api-key': 'client-azure-key',
  'proxy-authorization': 'Basic Y2xpZW50OnNlY3JldA==',
};
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let upstream: FaultUpstream;
let proxy: TestApp;
let keyed: TestApp;
let server: Awaited<ReturnType<typeof listen>>;
let keyedServer: Awaited<ReturnType<typeof listen>>;
let url: string;

beforeAll(async () => {
  upstream = await startFaultUpstream();
  proxy = buildApp({ providers: [provider(upstream.baseUrl, { headers: { 'x-org': 'acme' } })], heartbeatMs: 0 });
  keyed = buildApp({ providers: [provider(upstream.baseUrl)], apiKeys: ['client-key-should-stay-here'], heartbeatMs: 0 });
  server = await listen(proxy.app);
  keyedServer = await listen(keyed.app);
  url = `${server.url}/llm/v1/chat/completions`;
});

afterAll(async () => {
  await server.close();
  await keyedServer.close();
  await proxy.router.close();
  await keyed.router.close();
  await upstream.close();
});

beforeEach(() => {
  upstream.requests.length = 0;
});

const chat = (extra: Record<string, unknown> = {}) => ({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }], ...extra });

describe('client credentials never reach the upstream', () => {
  it.each([
    ['without apiKeys', false, false],
    ['without apiKeys, streaming', false, true],
    ['with apiKeys (the client key is checked, then dropped)', true, false],
    ['with apiKeys, streaming', true, true],
  ])('%s', async (_name, withKeys, stream) => {
    const target = withKeys ? `${keyedServer.url}/llm/v1/chat/completions` : url;
    const res = await postJson(target, chat({ stream }), CLIENT_HEADERS);
    expect(res.status).toBe(200);
    expect(upstream.requests).toHaveLength(1);
    const seen = upstream.requests[0].headers;
    expect(seen.authorization).toBe(`Bearer ${SECRET}`);
    for (const name of ['cookie', 'x-api-key', 'api-key', 'proxy-authorization']) expect(seen[name]).toBeUndefined();
    const all = JSON.stringify(upstream.requests[0]);
    for (const value of Object.values(CLIENT_HEADERS)) expect(all).not.toContain(value);
  });
});

/** Reads the raw header block of one proxied request, as bytes on the wire. */
function rawHeaderBlock(path: string, body: string, extra = ''): Promise<string> {
  return new Promise((resolve, reject) => {
    const { port } = new URL(server.url);
    const socket = net.connect(Number(port), '127.0.0.1');
    let data = '';
    socket.on('data', (chunk: Buffer) => {
      data += chunk.toString('latin1');
      const end = data.indexOf('\r\n\r\n');
      if (end !== -1) {
        socket.destroy();
        resolve(data.slice(0, end));
      }
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(data));
    socket.write(`POST ${path} HTTP/1.1\r\nhost: x\r\n${extra}content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  });
}

describe('upstream response headers that could harm the host are dropped', () => {
  it.each([false, true])('set-cookie, hop-by-hop, connection-named and transfer-encoding (stream %s)', async (stream) => {
    const res = await postJson(url, chat({ stream, fault: 'odd-headers' }));
    expect(res.status).toBe(200);
    expect(res.text).toBe(stream ? BODIES.okSse('upstream-gpt') : BODIES.okJson('upstream-gpt'));
    expect(String(res.headers['keep-alive'] ?? '')).not.toMatch(/timeout=77/);
    for (const name of ['set-cookie', 'x-hop-named', 'proxy-authenticate', 'trailer', 'upgrade']) {
      expect(res.headers[name]).toBeUndefined();
    }
    expect(res.headers.connection).not.toMatch(/x-hop-named/);
    expect(res.headers['x-passes']).toBe('kept');
    expect(res.headers['x-upstream-request-id']).toBe('upstream-id');
    expect(res.headers['x-request-id']).toMatch(UUID);
    if (stream) {
      expect(res.headers['content-length']).toBeUndefined();
    } else {
      expect(res.headers['transfer-encoding']).toBeUndefined();
      expect(res.headers['content-length']).toBe(String(Buffer.byteLength(res.text)));
    }
  });

  it('the raw header block is well formed: one header per line, no injected names', async () => {
    const block = await rawHeaderBlock('/llm/v1/chat/completions', JSON.stringify(chat({ fault: 'odd-headers' })));
    const [status, ...lines] = block.split('\r\n');
    expect(status).toBe('HTTP/1.1 200 OK');
    for (const line of lines) {
      expect(line).toMatch(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+: [^\r\n]*$/);
      expect(line.toLowerCase()).not.toMatch(/^(set-cookie|transfer-encoding|upgrade|trailer|x-hop-named|proxy-authenticate):/);
      expect(line).not.toMatch(/timeout=77/); // the upstream's keep-alive; Node may add its own
    }
  });

  it.each([false, true])('a header value with a bare CR cannot inject a header (stream %s)', async (stream) => {
    const res = await postJson(url, chat({ stream, fault: 'bare-cr-header' }));
    // undici refuses such a response: a 502 is the safe answer; passing the header through is not.
    expect([200, 502]).toContain(res.status);
    expect(res.headers['set-cookie']).toBeUndefined();
    for (const value of Object.values(res.headers)) expect(String(value)).not.toMatch(/[\r\n]/);
    if (res.status === 502) expect(res.json).toEqual(openAiErrorShape('upstream_request_error', 'proxy_error'));
    const next = await postJson(url, chat());
    expect(next.status).toBe(200);
  });
});

describe('x-request-id from the client', () => {
  it('a well-formed id is echoed and forwarded', async () => {
    const res = await postJson(url, chat(), { 'x-request-id': 'req-123.abc_DEF' });
    expect(res.headers['x-request-id']).toBe('req-123.abc_DEF');
    expect(upstream.requests[0].headers['x-request-id']).toBe('req-123.abc_DEF');
  });

  it.each([
    ['an encoded CRLF', 'abc%0d%0aset-cookie:%20evil=1'],
    ['spaces and a colon', 'abc set-cookie: evil=1'],
    ['obs-text', 'caf\xe9'],
    ['200 characters', 'a'.repeat(200)],
  ])('%s is replaced by a fresh UUID, both ways', async (_name, id) => {
    const res = await postJson(url, chat(), { 'x-request-id': id });
    expect(res.status).toBe(200);
    expect(res.headers['x-request-id']).toMatch(UUID);
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(upstream.requests[0].headers['x-request-id']).toBe(res.headers['x-request-id']);
  });

  it.each([
    ['a bare CR', 'x-request-id: abc\rset-cookie: evil=1\r\n'],
    ['a bare LF', 'x-request-id: abc\nset-cookie: evil=1\r\n'],
    ['a CRLF (a second request header)', 'x-request-id: abc\r\nset-cookie: evil=1\r\n'],
  ])('%s in a raw client x-request-id never becomes a response header', async (_name, line) => {
    const block = await rawHeaderBlock('/llm/v1/chat/completions', JSON.stringify(chat()), line);
    expect(block).toMatch(/^HTTP\/1\.1 (200|400) /);
    expect(block).not.toMatch(/set-cookie|evil/i);
    const next = await postJson(url, chat());
    expect(next.status).toBe(200);
  });
});

describe('provider key and base URL', () => {
  it('upstream error bodies pass through untouched, even when they name the key (upstream-made)', async () => {
    // The leak scan below covers proxy-made bodies only; this one is the upstream's.
    const { startUpstream } = await import('../kit/upstream.js');
    const body = JSON.stringify({ error: { message: `Incorrect API key provided: ${SECRET}`, type: 'invalid_request_error', param: null, code: 'invalid_api_key' } });
    const honest = await startUpstream((_req, res) => {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(body);
    });
    const app = buildApp({ providers: [provider(honest.baseUrl)] });
    const appServer = await listen(app.app);
    const res = await postJson(`${appServer.url}/llm/v1/chat/completions`, chat());
    seenBodies.pop();
    expect(res.status).toBe(401);
    expect(res.text).toBe(body);
    expect(leaks(app.entries, [], [SECRET, honest.origin])).toEqual([]);
    await appServer.close();
    await app.router.close();
    await honest.close();
  });

  it('no log entry or proxy-made body in this file contains the provider key or the upstream origin', () => {
    expect(leaks([...proxy.entries, ...keyed.entries], seenBodies, [SECRET, upstream.origin])).toEqual([]);
    expect(seenBodies.length).toBeGreaterThan(10);
  });
});

describe('a response id cannot step out of the responses path', () => {
  // With one provider serving responses, an unknown id goes to it: `..` would reach `/v1/` with its key.
  it.each([
    ['GET', '/llm/v1/responses/..'],
    ['GET', '/llm/v1/responses/%2E%2E'],
    ['DELETE', '/llm/v1/responses/..'],
    ['GET', '/llm/v1/responses/%2e%2e/input_items'],
    ['POST', '/llm/v1/responses/../cancel'],
    ['GET', '/llm/v1/responses/.'],
  ])('%s %s: 404 response_not_found, nothing upstream', async (method, path) => {
    const { request } = await import('node:http');
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      // `path` as an option is sent as written (a URL string would have its dot-segments removed), as a hostile client would.
      const { hostname, port } = new URL(server.url);
      const req = request({ host: hostname, port, path, method }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
    expect(answer.status).toBe(404);
    expect(JSON.parse(answer.body).error.code).toBe('response_not_found');
    expect(upstream.requests).toHaveLength(0);
  });
});
