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
let proxy: TestApp;
let server: Awaited<ReturnType<typeof listen>>;
let url: string;

beforeAll(async () => {
  proxy = buildApp({
    providers: [provider(upstream.baseUrl, { models: { 'gpt-test': 'upstream-gpt', same: 'same' } })],
    heartbeatMs: 0,
    bodyLimit: 1024 * 1024,
  });
  server = await listen(proxy.app);
  url = `${server.url}/llm/v1/chat/completions`;
});

afterAll(async () => {
  await server.close();
  await proxy.router.close();
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
