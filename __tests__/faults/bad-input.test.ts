/**
 * Hostile or broken client input: each gets an OpenAI-shaped 4xx, nothing reaches the upstream,
 * and the proxy serves the next request.
 */
import http from 'node:http';
import { buildApp, listen, provider, SECRET } from '../kit/app.js';
import type { TestApp } from '../kit/app.js';
import { leaks, openAiErrorShape, postJson, seenBodies, send } from '../kit/client.js';
import type { Answer } from '../kit/client.js';
import { okJson, startUpstream } from '../kit/upstream.js';
import type { TestUpstream } from '../kit/upstream.js';

const LIMIT = 256 * 1024;

let upstream: TestUpstream;
let proxy: TestApp;
let server: Awaited<ReturnType<typeof listen>>;
let base: string;
let chatUrl: string;

beforeAll(async () => {
  upstream = await startUpstream(okJson);
  proxy = buildApp({ providers: [provider(upstream.baseUrl)], bodyLimit: LIMIT });
  server = await listen(proxy.app);
  base = `${server.url}/llm`;
  chatUrl = `${base}/v1/chat/completions`;
});

afterAll(async () => {
  await server.close();
  await proxy.router.close();
  await upstream.close();
});

beforeEach(() => {
  upstream.requests.length = 0;
});

const nested = (depth: number, inner = '1') => `{"model":"gpt-test","deep":${'['.repeat(depth)}${inner}${']'.repeat(depth)}}`;

/** Nothing reached the upstream, and the proxy still answers a normal request. */
async function expectUntouchedAndServing(): Promise<void> {
  expect(upstream.requests).toHaveLength(0);
  const next = await postJson(chatUrl, { model: 'gpt-test', messages: [] });
  expect(next.status).toBe(200);
  expect(next.json?.model).toBe('upstream-gpt');
  expect(upstream.requests).toHaveLength(1);
}

function expectOpenAiError(res: Answer, status: number, code: string, param: string | null = null): void {
  expect({ status: res.status, body: res.json }).toEqual({ status, body: openAiErrorShape(code, 'invalid_request_error', param) });
  expect(res.headers['content-type']).toMatch(/^application\/json/);
}

const json = { 'content-type': 'application/json' };
const cases: [string, string | Buffer, Record<string, string>, number, string, string | null][] = [
  ['malformed JSON', '{"model":"gpt-test",', json, 400, 'invalid_json', null],
  ['a JSON array', '[{"model":"gpt-test"}]', json, 400, 'invalid_body', null],
  ['a JSON number', '42', json, 400, 'invalid_body', null],
  ['JSON null', 'null', json, 400, 'invalid_body', null],
  ['a JSON string', '"gpt-test"', json, 400, 'invalid_body', null],
  ['an empty body', '', json, 400, 'invalid_json', null],
  ['model missing', '{"messages":[]}', json, 400, 'missing_model', 'model'],
  ['model null', '{"model":null}', json, 400, 'missing_model', 'model'],
  ['model empty', '{"model":""}', json, 400, 'invalid_model', 'model'],
  ['model a number', '{"model":4}', json, 400, 'invalid_model', 'model'],
  ['model an object', '{"model":{"id":"gpt-test"}}', json, 400, 'invalid_model', 'model'],
  ['model 10 kB long', JSON.stringify({ model: 'm'.repeat(10 * 1024) }), json, 400, 'invalid_model', 'model'],
  ['stream a string', '{"model":"gpt-test","stream":"true"}', json, 400, 'invalid_type', 'stream'],
  ['stream a number', '{"model":"gpt-test","stream":1}', json, 400, 'invalid_type', 'stream'],
  ['content-type text/plain', '{"model":"gpt-test"}', { 'content-type': 'text/plain' }, 415, 'unsupported_media_type', null],
  ['content-type form', 'model=gpt-test', { 'content-type': 'application/x-www-form-urlencoded' }, 415, 'unsupported_media_type', null],
  ['content-type multipart', '--x--', { 'content-type': 'multipart/form-data; boundary=x' }, 415, 'unsupported_media_type', null],
  ['invalid UTF-8', Buffer.concat([Buffer.from('{"model":"gpt-test","x":"'), Buffer.from([0xc3, 0x28, 0xff, 0xfe]), Buffer.from('"}')]), json, 400, 'invalid_encoding', null],
  ['an overlong UTF-8 encoding', Buffer.concat([Buffer.from('{"model":"gpt-test","x":"'), Buffer.from([0xc0, 0xaf]), Buffer.from('"}')]), json, 400, 'invalid_encoding', null],
  ['a lone UTF-16 surrogate in UTF-8', Buffer.concat([Buffer.from('{"model":"gpt-test","x":"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}')]), json, 400, 'invalid_encoding', null],
  ['a body over bodyLimit', JSON.stringify({ model: 'gpt-test', pad: 'p'.repeat(LIMIT) }), json, 413, 'request_too_large', null],
  ['an unknown model', '{"model":"no-such-model"}', json, 404, 'model_not_found', 'model'],
];

describe('bad request bodies on POST /v1/chat/completions', () => {
  it.each(cases)('%s -> OpenAI-shaped %#', async (_name, body, headers, status, code, param) => {
    expectOpenAiError(await send(chatUrl, { body, headers }), status, code, param);
    await expectUntouchedAndServing();
  });

  it('a chunked body over bodyLimit (no content-length) -> 413, and the client can read it', async () => {
    const res = await new Promise<Answer>((resolve, reject) => {
      const req = http.request(chatUrl, { method: 'POST', headers: json, agent: false }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (data: Buffer) => chunks.push(data));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, text: '', json: JSON.parse(Buffer.concat(chunks).toString()), ms: 0 }));
      });
      req.on('error', reject);
      req.write('{"model":"gpt-test","pad":"');
      for (let i = 0; i < 20; i++) req.write('p'.repeat(16 * 1024));
      req.end('"}');
    });
    expectOpenAiError(res, 413, 'request_too_large');
    await expectUntouchedAndServing();
  });

  it('a declared content-length over bodyLimit -> 413 before the body is read', async () => {
    const res = await send(chatUrl, { body: '{"model":"gpt-test"}', headers: { ...json, 'content-length': String(LIMIT + 1) } });
    // The client sent fewer bytes than declared; the proxy must answer without waiting for them.
    expect(res.status === 413 || res.status === 0).toBe(true);
    if (res.status === 413) expectOpenAiError(res, 413, 'request_too_large');
    await expectUntouchedAndServing();
  });

  it.each([
    [10_000, false],
    [10_000, true],
    [100_000, false],
  ])('JSON nested %d levels (stream %s) is proxied or rejected with 400, never a 5xx', async (depth, stream) => {
    const res = await send(chatUrl, { body: nested(depth).replace('"model":"gpt-test"', `"model":"gpt-test","stream":${stream}`), headers: json });
    expect([200, 400]).toContain(res.status);
    if (res.status === 200) {
      expect(upstream.requests).toHaveLength(1);
      expect(JSON.parse(upstream.requests[0].body).model).toBe('upstream-gpt');
      upstream.requests.length = 0;
    } else {
      expectOpenAiError(res, 400, 'invalid_json');
    }
    await expectUntouchedAndServing();
  });

  // A second "model" key sends rewriteModel to its depth-tracking scan (JSON.stringify would
  // overflow the stack here). Own app, so its log entries stay out of the suite's level check.
  it('JSON nested 10,000 levels with a nested "model" key is proxied or rejected with 400', async () => {
    const own = buildApp({ providers: [provider(upstream.baseUrl)], bodyLimit: LIMIT });
    const ownServer = await listen(own.app);
    try {
      const res = await send(`${ownServer.url}/llm/v1/chat/completions`, { body: nested(10_000, '{"model":"x"}'), headers: json });
      expect([200, 400]).toContain(res.status);
    } finally {
      await ownServer.close();
      await own.router.close();
      upstream.requests.length = 0;
    }
  });
});

describe('bad routes and methods', () => {
  it.each(['/v1/nope', '/v2/chat/completions', '/v1/chat/completions/extra', '/admin/v1/health/check', '/v1/../../etc/passwd', '/%2e%2e/%2e%2e/etc', '/v1/chat%2fcompletions'])(
    'unknown route %s -> OpenAI-shaped 404, not HTML',
    async (path) => {
      for (const method of ['GET', 'POST']) {
        const res = await send(server.url, { method, path: `/llm${path}`, body: '{}', headers: json });
        expectOpenAiError(res, 404, 'unknown_route');
      }
      await expectUntouchedAndServing();
    },
  );

  it.each([
    ['GET', '/v1/chat/completions', 'POST'],
    ['PUT', '/v1/completions', 'POST'],
    ['DELETE', '/v1/embeddings', 'POST'],
    ['PATCH', '/v1/chat/completions', 'POST'],
    ['POST', '/v1/models', 'GET, HEAD'],
  ])('%s %s -> 405 with allow: %s', async (method, path, allow) => {
    const res = await send(`${base}${path}`, { method, headers: json, body: '{"model":"gpt-test"}' });
    expectOpenAiError(res, 405, 'method_not_allowed');
    expect(res.headers.allow).toBe(allow);
    await expectUntouchedAndServing();
  });

  it('HEAD on a POST route -> 405 with allow and no body', async () => {
    const res = await send(`${base}/v1/chat/completions`, { method: 'HEAD' });
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('POST');
    expect(res.text).toBe('');
    await expectUntouchedAndServing();
  });
});

describe('after all the bad input', () => {
  it('no log entry or proxy-made body contains the provider key or the upstream origin', () => {
    expect(leaks(proxy.entries, seenBodies, [SECRET, upstream.origin])).toEqual([]);
  });

  it('bad input is logged at warn, never at error', () => {
    const bad = proxy.entries.filter((entry) => typeof entry.status === 'number' && entry.status >= 400);
    expect(bad.length).toBeGreaterThanOrEqual(25);
    for (const entry of bad) expect(entry.level).toBe('warn');
  });
});
