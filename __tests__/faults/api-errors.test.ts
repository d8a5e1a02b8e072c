/**
 * Errors in each API's own shape: the proxy's own errors on `/v1/messages*` are Anthropic's
 * `{"type":"error","error":{"type","message"}}` with the type by status; on the Responses and
 * models routes they are OpenAI's. Upstream errors pass through byte for byte. Client keys are
 * taken from `x-api-key` as well as `Authorization: Bearer`.
 */
import { buildApp, listen } from '../kit/app.js';
import { postJson, send } from '../kit/client.js';
import type { Answer } from '../kit/client.js';
import { messagesUpstream } from '../kit/messages-upstream.js';
import { responsesUpstream } from '../kit/responses-upstream.js';
import { closeAfterEach } from '../kit/stream-client.js';
import type { TestUpstream } from '../kit/upstream.js';
import { refusedPort, startUpstream } from '../kit/upstream.js';
import { failOnUnhandledErrors } from '../kit/unhandled.js';
import type { LlmProxyOptions, ProviderConfig } from '../../lib/index.js';

failOnUnhandledErrors();
const track = closeAfterEach();

const claude = (baseUrl: string, overrides: Partial<ProviderConfig> = {}): ProviderConfig => ({
  id: 'c',
  key: 'claude',
  type: 'anthropic',
  baseUrl,
  apiKey: 'sk-ant-upstream',
  models: { 'claude-test': 'claude-upstream' },
  ...overrides,
});
const gpt = (baseUrl: string, overrides: Partial<ProviderConfig> = {}): ProviderConfig => ({ id: 'o', key: 'openai', baseUrl, apiKey: 'sk-upstream', models: { 'gpt-test': 'gpt-upstream' }, ...overrides });

let upstream: TestUpstream;
const mock = messagesUpstream();
beforeAll(async () => {
  upstream = await startUpstream(mock);
});
afterAll(() => upstream.close());
beforeEach(() => {
  upstream.requests.length = 0;
});

async function proxy(options: Partial<LlmProxyOptions> = {}) {
  const built = buildApp({ providers: [claude(upstream.baseUrl)], ...options });
  const server = await listen(built.app);
  const close = track(async () => {
    await server.close();
    await built.router.close();
  });
  return { ...built, url: `${server.url}/llm`, close };
}

const MESSAGE = { model: 'claude-test', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] };
const anthropicShape = (type: string) => ({ type: 'error', error: { type, message: expect.any(String) } });

function expectAnthropic(answer: Answer, status: number, type: string): void {
  expect({ status: answer.status, body: answer.json }).toEqual({ status, body: anthropicShape(type) });
  expect(answer.headers['content-type']).toMatch(/^application\/json/);
}

describe('proxy-made errors on /v1/messages are Anthropic-shaped, typed by status', () => {
  it('400 bad JSON, 400 no model, 415, 413, 405, 404 unknown model, 404 unknown route', async () => {
    const app = await proxy({ bodyLimit: 2048 });
    expectAnthropic(await postJson(`${app.url}/v1/messages`, '{"model":'), 400, 'invalid_request_error');
    expectAnthropic(await postJson(`${app.url}/v1/messages`, { max_tokens: 1 }), 400, 'invalid_request_error');
    expectAnthropic(await send(`${app.url}/v1/messages`, { body: 'hi', headers: { 'content-type': 'text/plain' } }), 415, 'invalid_request_error');
    expectAnthropic(await postJson(`${app.url}/v1/messages`, { ...MESSAGE, pad: 'x'.repeat(4096) }), 413, 'request_too_large');
    const wrongMethod = await send(`${app.url}/v1/messages`, { method: 'GET' });
    expectAnthropic(wrongMethod, 405, 'invalid_request_error');
    expect(wrongMethod.headers.allow).toBe('POST');
    expectAnthropic(await postJson(`${app.url}/v1/messages`, { ...MESSAGE, model: 'nope' }), 404, 'not_found_error');
    expectAnthropic(await postJson(`${app.url}/v1/messages/count_tokens`, { ...MESSAGE, model: 'nope' }), 404, 'not_found_error');
    expectAnthropic(await postJson(`${app.url}/v1/messages/batches`, MESSAGE), 404, 'not_found_error');
    expect(upstream.requests).toHaveLength(0);
  });

  it('502 when the upstream refuses connections, 504 when it does not answer in time', async () => {
    const refused = await proxy({ providers: [claude(`http://127.0.0.1:${await refusedPort()}/v1`)] });
    expectAnthropic(await postJson(`${refused.url}/v1/messages`, MESSAGE), 502, 'api_error');
    upstream.setHandler(() => {}); // never answers
    try {
      const slow = await proxy({ timeouts: { requestMs: 150 } });
      expectAnthropic(await postJson(`${slow.url}/v1/messages`, MESSAGE), 504, 'timeout_error');
    } finally {
      upstream.setHandler(mock);
    }
  });

  it('503 overloaded_error once the router is closing', async () => {
    const app = await proxy();
    await app.router.close();
    expectAnthropic(await postJson(`${app.url}/v1/messages`, MESSAGE), 503, 'overloaded_error');
  });

  it('an upstream error passes through byte for byte, status and request-id too', async () => {
    const app = await proxy();
    mock.script('overloaded_error', 'overloaded_error');
    const direct = await postJson(`${upstream.baseUrl}/messages`, MESSAGE);
    const proxied = await postJson(`${app.url}/v1/messages`, MESSAGE);
    expect(proxied.status).toBe(529);
    expect(proxied.headers['request-id']).toMatch(/^req_mock/);
    expect(proxied.text).toBe(direct.text.replace(String(direct.headers['request-id']), String(proxied.headers['request-id'])));
    expect(proxied.json).toMatchObject({ type: 'error', error: { type: 'overloaded_error' } });
  });
});

describe('providers serve only their APIs', () => {
  it('a model of an openai provider is not found on /v1/messages, and an anthropic one not on chat', async () => {
    const app = await proxy({ providers: [claude(upstream.baseUrl), gpt(upstream.baseUrl)] });
    expectAnthropic(await postJson(`${app.url}/v1/messages`, { ...MESSAGE, model: 'gpt-test' }), 404, 'not_found_error');
    const chat = await postJson(`${app.url}/v1/chat/completions`, { model: 'claude-test', messages: [] });
    expect(chat.status).toBe(404);
    expect(chat.json).toEqual({ error: { message: expect.any(String), type: 'invalid_request_error', param: 'model', code: 'model_not_found' } });
    // /v1/models lists the models of every enabled provider, whatever its type.
    const models = await send(`${app.url}/v1/models`, { method: 'GET' });
    expect(models.json?.data.map((m: { id: string }) => m.id)).toEqual(['claude-test', 'gpt-test']);
    expect(upstream.requests).toHaveLength(0);
  });

  it('an openai provider that lists messages in `apis` gets the client\'s anthropic headers and its own Bearer key', async () => {
    const app = await proxy({ providers: [gpt(upstream.baseUrl, { apis: ['messages'], models: { 'claude-test': 'claude-upstream' } })] });
    const answer = await postJson(`${app.url}/v1/messages`, MESSAGE, { 'anthropic-version': '2023-06-01', 'anthropic-beta': 'x-2025' });
    expect(answer.status).toBe(200);
    expect(upstream.requests[0].headers).toMatchObject({ authorization: 'Bearer sk-upstream', 'anthropic-version': '2023-06-01', 'anthropic-beta': 'x-2025' });
    expect(upstream.requests[0].headers['x-api-key']).toBeUndefined();
  });

  it('an anthropic provider gets anthropic-version 2023-06-01 when the client sent none', async () => {
    const app = await proxy();
    expect((await postJson(`${app.url}/v1/messages`, MESSAGE)).status).toBe(200);
    expect(upstream.requests[0].headers).toMatchObject({ 'x-api-key': 'sk-ant-upstream', 'anthropic-version': '2023-06-01' });
    expect(upstream.requests[0].headers.authorization).toBeUndefined();
  });
});

describe('client keys (apiKeys) in x-api-key or Authorization: Bearer', () => {
  it('accepts either header on every route; a refusal is Anthropic-shaped on /v1/messages, OpenAI-shaped elsewhere', async () => {
    const app = await proxy({ apiKeys: ['k-1'], providers: [claude(upstream.baseUrl), gpt(upstream.baseUrl)] });
    expect((await postJson(`${app.url}/v1/messages`, MESSAGE, { 'x-api-key': 'k-1' })).status).toBe(200);
    expect((await postJson(`${app.url}/v1/messages`, MESSAGE, { authorization: 'Bearer k-1' })).status).toBe(200);
    expectAnthropic(await postJson(`${app.url}/v1/messages`, MESSAGE), 401, 'authentication_error');
    expectAnthropic(await postJson(`${app.url}/v1/messages`, MESSAGE, { 'x-api-key': 'k-2' }), 401, 'authentication_error');
    expectAnthropic(await postJson(`${app.url}/v1/messages/count_tokens`, MESSAGE, { 'x-api-key': 'k-2' }), 401, 'authentication_error');
    const models = await send(`${app.url}/v1/models`, { method: 'GET', headers: { 'x-api-key': 'k-1' } });
    expect(models.status).toBe(200);
    for (const path of ['/v1/responses', '/v1/chat/completions']) {
      const refused = await postJson(`${app.url}${path}`, { model: 'gpt-test', input: 'x' }, { 'x-api-key': 'k-2' });
      expect({ path, status: refused.status, body: refused.json }).toEqual({ path, status: 401, body: { error: { message: expect.any(String), type: 'invalid_request_error', param: null, code: 'invalid_api_key' } } });
    }
    const retrieve = await send(`${app.url}/v1/responses/resp_1`, { method: 'GET' });
    expect({ status: retrieve.status, code: retrieve.json?.error?.code }).toEqual({ status: 401, code: 'invalid_api_key' });
  });
});

describe('Responses and models routes answer in the OpenAI shape', () => {
  let responses: TestUpstream;
  const responsesMock = responsesUpstream({ prefix: 'only' });
  beforeAll(async () => {
    responses = await startUpstream(responsesMock);
  });
  afterAll(() => responses.close());

  it('unknown model, 405, unknown model id, response_not_found with two providers', async () => {
    const app = await proxy({ providers: [gpt(responses.baseUrl), gpt(responses.baseUrl, { id: 'p', key: 'other' })] });
    const unknown = await postJson(`${app.url}/v1/responses`, { model: 'nope', input: 'x' });
    expect({ status: unknown.status, body: unknown.json }).toEqual({ status: 404, body: { error: { message: expect.any(String), type: 'invalid_request_error', param: 'model', code: 'model_not_found' } } });
    const wrong = await send(`${app.url}/v1/responses/resp_1`, { method: 'PUT' });
    expect({ status: wrong.status, allow: wrong.headers.allow, code: wrong.json?.error?.code }).toEqual({ status: 405, allow: 'GET, DELETE, HEAD', code: 'method_not_allowed' });
    const model = await send(`${app.url}/v1/models/nope`, { method: 'GET', headers: { 'anthropic-version': '2023-06-01' } });
    expect({ status: model.status, code: model.json?.error?.code }).toEqual({ status: 404, code: 'model_not_found' });
    for (const [method, path] of [['GET', '/resp_x'], ['DELETE', '/resp_x'], ['POST', '/resp_x/cancel'], ['GET', '/resp_x/input_items']]) {
      const answer = await send(`${app.url}/v1/responses${path}`, { method });
      expect({ path, status: answer.status, body: answer.json }).toEqual({
        path,
        status: 404,
        body: { error: { message: expect.stringContaining('does not know which provider holds it'), type: 'invalid_request_error', param: null, code: 'response_not_found' } },
      });
    }
    expect(responses.requests).toHaveLength(0);
  });

  it('a continuation pinned to a provider that does not map its model: 404 model_not_found, nothing sent', async () => {
    const app = await proxy({ providers: [gpt(responses.baseUrl), gpt(upstream.baseUrl, { id: 'p', key: 'other', models: { 'gpt-other': 'x' } })] });
    const first = await postJson(`${app.url}/v1/responses`, { model: 'gpt-test', input: 'x' });
    expect(first.status).toBe(200);
    const next = await postJson(`${app.url}/v1/responses`, { model: 'gpt-other', input: 'y', previous_response_id: first.json?.id });
    expect({ status: next.status, code: next.json?.error?.code, message: next.json?.error?.message }).toEqual({
      status: 404,
      code: 'model_not_found',
      message: `The model \`gpt-other\` is not served by the provider that holds \`${first.json?.id}\``,
    });
    expect(upstream.requests).toHaveLength(0);
  });

  it('an unknown id with exactly one provider serving responses goes there; its 404 passes through byte for byte', async () => {
    const app = await proxy({ providers: [gpt(responses.baseUrl), claude(upstream.baseUrl)] });
    const direct = await send(`${responses.baseUrl}/responses/resp_x`, { method: 'GET' });
    const proxied = await send(`${app.url}/v1/responses/resp_x?include=a`, { method: 'GET' });
    expect(proxied.status).toBe(404);
    expect(proxied.text).toBe(direct.text);
    expect(responses.requests.at(-1)?.url).toBe('/v1/responses/resp_x?include=a'); // the query is kept
    await send(`${app.url}/v1/responses/resp%2F%20x/input_items`, { method: 'GET' });
    expect(responses.requests.at(-1)?.url).toBe('/v1/responses/resp%2F%20x/input_items'); // the id, encoded again
  });
});
