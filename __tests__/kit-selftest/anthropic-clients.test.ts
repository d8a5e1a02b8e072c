/**
 * The Messages mock proven against the official clients, pointed at it directly (no proxy):
 * `@anthropic-ai/sdk` and the Vercel AI SDK's `@ai-sdk/anthropic`. Also pins what each sends.
 */
import Anthropic from '@anthropic-ai/sdk';
import { createAnthropic } from '@ai-sdk/anthropic';
import { APICallError, generateText, streamText } from 'ai';
import { messagesUpstream } from '../kit/messages-upstream.js';
import type { TestUpstream } from '../kit/upstream.js';
import { startUpstream } from '../kit/upstream.js';

(globalThis as { AI_SDK_LOG_WARNINGS?: boolean }).AI_SDK_LOG_WARNINGS = false;

const KEY = 'sk-ant-test';
const mock = messagesUpstream({ apiKey: KEY, text: ['The ', 'quick ', 'fox'], usage: { input_tokens: 30, output_tokens: 4, cache_read_input_tokens: 10 } });
let upstream: TestUpstream;
let client: Anthropic;
beforeAll(async () => {
  upstream = await startUpstream(mock);
  // The SDK appends /v1 itself; the AI SDK takes the /v1 base URL.
  client = new Anthropic({ apiKey: KEY, baseURL: upstream.origin, maxRetries: 0 });
});
afterAll(() => upstream.close());
beforeEach(() => {
  upstream.requests.length = 0;
  mock.options.unknownEvent = undefined;
  mock.options.toolUse = undefined;
});

const params = { model: 'claude-mock-1', max_tokens: 256, messages: [{ role: 'user' as const, content: 'hi' }] };

describe('@anthropic-ai/sdk against the Messages mock', () => {
  it('messages.create: the message, its usage, and what the SDK sent', async () => {
    const message = await client.messages.create(params);
    expect(message.content).toEqual([{ type: 'text', text: 'The quick fox' }]);
    expect(message.stop_reason).toBe('end_turn');
    expect(message.usage).toMatchObject({ input_tokens: 30, output_tokens: 4, cache_read_input_tokens: 10 });
    const [sent] = upstream.requests;
    expect(`${sent.method} ${sent.url}`).toBe('POST /v1/messages');
    // SDK 1.x: the key goes as a Bearer token, not x-api-key, with API version 2026-10-21.
    expect(sent.headers).toMatchObject({ authorization: `Bearer ${KEY}`, 'anthropic-version': '2026-10-21' });
    expect(sent.headers['x-api-key']).toBeUndefined();
  });

  it('messages.stream: text deltas in order and the final message, through an unknown event', async () => {
    mock.options.unknownEvent = 'future_event';
    const stream = client.messages.stream(params);
    const texts: string[] = [];
    stream.on('text', (text) => texts.push(text));
    const final = await stream.finalMessage();
    expect(texts).toEqual(['The ', 'quick ', 'fox']);
    expect(final.content).toEqual([{ type: 'text', text: 'The quick fox' }]);
    expect(final.usage.output_tokens).toBe(4);
    expect(upstream.requests[0].json?.stream).toBe(true);
    expect(upstream.requests[0].headers['x-stainless-helper-method']).toBe('stream');
  });

  it('messages.stream: a tool_use block arrives with its input parsed', async () => {
    mock.options.toolUse = { name: 'get_weather', input: { city: 'Paris', days: 2 } };
    const final = await client.messages.stream(params).finalMessage();
    expect(final.stop_reason).toBe('tool_use');
    expect(final.content[1]).toMatchObject({ type: 'tool_use', name: 'get_weather', input: { city: 'Paris', days: 2 } });
  });

  it('messages.countTokens and models.list / retrieve', async () => {
    expect(await client.messages.countTokens({ model: params.model, messages: params.messages })).toEqual({ input_tokens: 30 });
    const models = [];
    for await (const model of client.models.list()) models.push(model.id);
    expect(models).toEqual(mock.options.models.map((m) => m.id));
    expect((await client.models.retrieve(models[1])).display_name).toBe(mock.options.models[1].display_name);
    expect(upstream.requests.map((r) => `${r.method} ${r.url}`)).toEqual(['POST /v1/messages/count_tokens', 'GET /v1/models', `GET /v1/models/${models[1]}`]);
  });

  it.each([
    ['invalid_request_error', 400, Anthropic.BadRequestError],
    ['authentication_error', 401, Anthropic.AuthenticationError],
    ['rate_limit_error', 429, Anthropic.RateLimitError],
    ['api_error', 500, Anthropic.InternalServerError],
    ['overloaded_error', 529, Anthropic.OverloadedError],
  ] as const)('a scripted %s is an APIError subclass with status %i and error.type', async (type, status, ErrorClass) => {
    mock.script(type);
    const error = await client.messages.create(params).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ErrorClass);
    const apiError = error as InstanceType<typeof Anthropic.APIError>;
    expect(apiError.status).toBe(status);
    expect(apiError.type).toBe(type);
    expect(apiError.requestID).toMatch(/^req_/);
  });

  it('retries a 529 by itself and then succeeds', async () => {
    const retrying = new Anthropic({ apiKey: KEY, baseURL: upstream.origin, maxRetries: 1 });
    mock.script('overloaded_error');
    const message = await retrying.messages.create(params);
    expect(message.content[0]).toMatchObject({ text: 'The quick fox' });
    expect(upstream.requests.map((r) => r.headers['x-stainless-retry-count'])).toEqual(['0', '1']);
  });
});

describe('@ai-sdk/anthropic against the Messages mock', () => {
  const model = () => createAnthropic({ baseURL: upstream.baseUrl, apiKey: KEY })('claude-mock-1');

  it('generateText: the text and usage; sends x-api-key and anthropic-version 2023-06-01', async () => {
    const result = await generateText({ model: model(), prompt: 'hi' });
    expect(result.text).toBe('The quick fox');
    expect(result.finishReason).toBe('stop');
    expect(result.usage).toMatchObject({ inputTokens: 40, outputTokens: 4 });
    const [sent] = upstream.requests;
    expect(`${sent.method} ${sent.url}`).toBe('POST /v1/messages');
    expect(sent.headers).toMatchObject({ 'x-api-key': KEY, 'anthropic-version': '2023-06-01' });
    expect(sent.headers.authorization).toBeUndefined();
  });

  it('streamText: the deltas in order', async () => {
    const result = streamText({ model: model(), prompt: 'hi' });
    const chunks: string[] = [];
    for await (const text of result.textStream) chunks.push(text);
    expect(chunks).toEqual(['The ', 'quick ', 'fox']);
    expect(await result.finishReason).toBe('stop');
    expect(upstream.requests[0].json?.stream).toBe(true);
  });

  it('a 529 is an APICallError with statusCode 529, retryable', async () => {
    mock.script('overloaded_error');
    const error = await generateText({ model: model(), prompt: 'hi', maxRetries: 0 }).catch((e: unknown) => e);
    expect(APICallError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ statusCode: 529, isRetryable: true, message: 'Overloaded' });
  });
});
