/**
 * The Anthropic Messages API through the router, with the official clients unchanged:
 * `@anthropic-ai/sdk` 1.x (Bearer auth, anthropic-version 2026-10-21) and `@ai-sdk/anthropic`
 * (x-api-key, 2023-06-01), against the faithful Messages mock behind an `anthropic` provider.
 */
import Anthropic from '@anthropic-ai/sdk';
import { createAnthropic } from '@ai-sdk/anthropic';
import { APICallError, generateText, streamText } from 'ai';
import { buildApp, listen } from '../kit/app.js';
import { postJson } from '../kit/client.js';
import { messagesUpstream } from '../kit/messages-upstream.js';
import type { TestUpstream } from '../kit/upstream.js';
import { startUpstream } from '../kit/upstream.js';
import { HealthCheckService } from '../../lib/index.js';
import type { LlmProxyRouter } from '../../lib/index.js';
import { responsesUpstream } from '../kit/responses-upstream.js';

(globalThis as { AI_SDK_LOG_WARNINGS?: boolean }).AI_SDK_LOG_WARNINGS = false;

const UPSTREAM_KEY = 'sk-ant-upstream-0123456789';
const CLIENT_KEY = 'client-key-1';
const mock = messagesUpstream({ apiKey: UPSTREAM_KEY, text: ['The ', 'quick ', 'fox'], usage: { input_tokens: 30, output_tokens: 4 } });
let upstream: TestUpstream;
let router: LlmProxyRouter;
let entries: Record<string, unknown>[];
let proxy: Awaited<ReturnType<typeof listen>>;
let client: Anthropic;

beforeAll(async () => {
  upstream = await startUpstream(mock);
  const built = buildApp({
    providers: [{ id: 1, key: 'claude', type: 'anthropic', baseUrl: upstream.baseUrl, apiKey: UPSTREAM_KEY, models: { 'claude-test': 'claude-upstream-1' } }],
    apiKeys: [CLIENT_KEY],
    heartbeatMs: 0,
  });
  router = built.router;
  entries = built.entries;
  proxy = await listen(built.app);
  // The SDK appends /v1 itself.
  client = new Anthropic({ apiKey: CLIENT_KEY, baseURL: `${proxy.url}/llm`, maxRetries: 0 });
});
afterAll(async () => {
  await router.close();
  await proxy.close();
  await upstream.close();
});
beforeEach(() => {
  upstream.requests.length = 0;
  entries.length = 0;
});

const params = { model: 'claude-test', max_tokens: 256, messages: [{ role: 'user' as const, content: 'hi' }] };

describe('@anthropic-ai/sdk through the router', () => {
  it('messages.create: the message; upstream gets x-api-key, the client\'s anthropic-version, the mapped model, no client auth', async () => {
    const message = await client.messages.create(params);
    expect(message.content).toEqual([{ type: 'text', text: 'The quick fox' }]);
    expect(message.model).toBe('claude-upstream-1');
    const [sent] = upstream.requests;
    expect(`${sent.method} ${sent.url}`).toBe('POST /v1/messages');
    expect(sent.json?.model).toBe('claude-upstream-1');
    expect(sent.headers).toMatchObject({ 'x-api-key': UPSTREAM_KEY, 'anthropic-version': '2026-10-21' });
    expect(sent.headers.authorization).toBeUndefined();
    expect(sent.headers['x-stainless-retry-count']).toBeUndefined(); // no other client header travels
  });

  it('messages.stream: text deltas in order and finalMessage(); usage and api on the log entry', async () => {
    const stream = client.messages.stream(params);
    const texts: string[] = [];
    stream.on('text', (text) => texts.push(text));
    const final = await stream.finalMessage();
    expect(texts).toEqual(['The ', 'quick ', 'fox']);
    expect(final.content).toEqual([{ type: 'text', text: 'The quick fox' }]);
    expect(final.usage.output_tokens).toBe(4);
    const entry = entries.find((e) => e.path === '/llm/v1/messages');
    expect(entry).toMatchObject({ api: 'messages', provider: 'claude', model: 'claude-test', usage: { input_tokens: 30, output_tokens: 4, total_tokens: 34 } });
    expect(entry?.stream_error).toBeUndefined();
  });

  it('messages.countTokens', async () => {
    expect(await client.messages.countTokens({ model: 'claude-test', messages: params.messages })).toEqual({ input_tokens: 30 });
    expect(upstream.requests[0].url).toBe('/v1/messages/count_tokens');
    expect(upstream.requests[0].json?.model).toBe('claude-upstream-1');
  });

  it('models.list and models.retrieve answer in Anthropic\'s shape', async () => {
    const ids: string[] = [];
    for await (const model of client.models.list()) ids.push(model.id);
    expect(ids).toEqual(['claude-test']);
    const model = await client.models.retrieve('claude-test');
    expect(model).toMatchObject({ type: 'model', id: 'claude-test', display_name: 'claude-test' });
    expect(Number.isNaN(Date.parse(model.created_at))).toBe(false);
    const missing = await client.models.retrieve('nope').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(Anthropic.NotFoundError);
    expect(upstream.requests).toHaveLength(0);
  });

  it.each([
    ['invalid_request_error', 400, Anthropic.BadRequestError],
    ['rate_limit_error', 429, Anthropic.RateLimitError],
    ['api_error', 500, Anthropic.InternalServerError],
    ['overloaded_error', 529, Anthropic.OverloadedError],
  ] as const)('an upstream %s reaches the client as itself (status %i)', async (type, status, ErrorClass) => {
    mock.script(type); // 429 and 529 may fail over, but there is no other provider
    const error = await client.messages.create(params).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ErrorClass);
    expect((error as InstanceType<typeof Anthropic.APIError>).status).toBe(status);
    expect((error as InstanceType<typeof Anthropic.APIError>).type).toBe(type);
    expect(upstream.requests).toHaveLength(1);
  });

  it('proxy-made errors: an unknown model is NotFoundError with type not_found_error; a bad key is AuthenticationError', async () => {
    const missing = await client.messages.create({ ...params, model: 'unknown-model' }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(Anthropic.NotFoundError);
    expect((missing as InstanceType<typeof Anthropic.APIError>).type).toBe('not_found_error');
    const stranger = new Anthropic({ apiKey: 'wrong', baseURL: `${proxy.url}/llm`, maxRetries: 0 });
    const refused = await stranger.messages.create(params).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(Anthropic.AuthenticationError);
    expect((refused as InstanceType<typeof Anthropic.APIError>).type).toBe('authentication_error');
    expect(upstream.requests).toHaveLength(0);
  });

  it('a mid-stream overloaded_error is passed through: the SDK throws APIError with that type', async () => {
    mock.script('stream:overloaded_error');
    const stream = client.messages.stream(params);
    const texts: string[] = [];
    stream.on('text', (text) => texts.push(text));
    const error = await stream.finalMessage().catch((e: unknown) => e);
    expect(texts).toEqual(['The ', 'quick ']);
    expect((error as InstanceType<typeof Anthropic.APIError>).type).toBe('overloaded_error');
  });
});

describe('Claude Code\'s request through the router', () => {
  it('POST /v1/messages?beta=true with x-api-key: the query, anthropic-version and anthropic-beta reach the upstream', async () => {
    const beta = 'claude-code-20250219,interleaved-thinking-2025-05-14';
    const answer = await postJson(`${proxy.url}/llm/v1/messages?beta=true`, { ...params, stream: true }, {
      'x-api-key': CLIENT_KEY,
      'anthropic-version': '2023-06-01',
      'anthropic-beta': beta,
      'x-app': 'cli',
    });
    expect(answer.status).toBe(200);
    expect(answer.text).toContain('event: message_stop');
    expect(answer.text).not.toContain('[DONE]');
    const [sent] = upstream.requests;
    expect(sent.url).toBe('/v1/messages?beta=true');
    expect(sent.headers).toMatchObject({ 'anthropic-version': '2023-06-01', 'anthropic-beta': beta, 'x-api-key': UPSTREAM_KEY });
    expect(sent.headers['x-app']).toBeUndefined();
  });
});

describe('@ai-sdk/anthropic through the router', () => {
  const model = () => createAnthropic({ baseURL: `${proxy.url}/llm/v1`, apiKey: CLIENT_KEY })('claude-test');

  it('generateText and streamText', async () => {
    const result = await generateText({ model: model(), prompt: 'hi' });
    expect(result.text).toBe('The quick fox');
    expect(upstream.requests[0].headers['anthropic-version']).toBe('2023-06-01');
    const streamed = streamText({ model: model(), prompt: 'hi' });
    const chunks: string[] = [];
    for await (const text of streamed.textStream) chunks.push(text);
    expect(chunks).toEqual(['The ', 'quick ', 'fox']);
    expect(await streamed.finishReason).toBe('stop');
  });

  it('a 529 from the upstream is an APICallError with statusCode 529', async () => {
    mock.script('overloaded_error');
    const error = await generateText({ model: model(), prompt: 'hi', maxRetries: 0 }).catch((e: unknown) => e);
    expect(APICallError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ statusCode: 529, isRetryable: true });
  });
});

describe('health probes of the new modes', () => {
  it('an anthropic provider is probed on /messages (x-api-key, anthropic-version); a responses-mode model on /responses', async () => {
    const responses = await startUpstream(responsesUpstream({ apiKey: 'sk-resp' }));
    const service = new HealthCheckService({
      providers: [
        { id: 1, key: 'claude', type: 'anthropic', baseUrl: upstream.baseUrl, apiKey: UPSTREAM_KEY, models: { 'claude-test': 'claude-upstream-1' } },
        { id: 2, key: 'openai', baseUrl: responses.baseUrl, apiKey: 'sk-resp', models: { 'gpt-test': { model: 'gpt-up', healthCheck: { mode: 'responses' } } } },
      ],
    });
    try {
      const report = await service.checkProviders();
      expect(report.providers.map((p) => [p.provider_key, p.status])).toEqual([
        ['claude', 'healthy'],
        ['openai', 'healthy'],
      ]);
      expect(upstream.requests[0]).toMatchObject({ method: 'POST', url: '/v1/messages', json: { model: 'claude-upstream-1', max_tokens: 5 } });
      expect(upstream.requests[0].headers).toMatchObject({ 'x-api-key': UPSTREAM_KEY, 'anthropic-version': '2023-06-01' });
      expect(responses.requests[0]).toMatchObject({ url: '/v1/responses', json: { model: 'gpt-up', input: 'Hi', max_output_tokens: 16 } });
    } finally {
      await service.close();
      await responses.close();
    }
  });
});
