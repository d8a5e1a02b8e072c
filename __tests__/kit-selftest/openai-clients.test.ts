/**
 * The Responses mock proven against the official clients, pointed at it directly (no proxy):
 * `openai` v6 and the Vercel AI SDK's `@ai-sdk/openai` (whose default model speaks Responses).
 */
import { createOpenAI } from '@ai-sdk/openai';
import { APICallError, generateText, streamText } from 'ai';
import OpenAI from 'openai';
import { responsesUpstream } from '../kit/responses-upstream.js';
import type { TestUpstream } from '../kit/upstream.js';
import { startUpstream } from '../kit/upstream.js';

(globalThis as { AI_SDK_LOG_WARNINGS?: boolean }).AI_SDK_LOG_WARNINGS = false;

const KEY = 'sk-openai-test';
const mock = responsesUpstream({ prefix: 'one', apiKey: KEY, text: ['Once ', 'upon ', 'a time'], usage: { input_tokens: 15, cached_tokens: 5, output_tokens: 3, reasoning_tokens: 0 } });
let upstream: TestUpstream;
let client: OpenAI;
beforeAll(async () => {
  upstream = await startUpstream(mock);
  client = new OpenAI({ apiKey: KEY, baseURL: upstream.baseUrl, maxRetries: 0 });
});
afterAll(() => upstream.close());
beforeEach(() => {
  upstream.requests.length = 0;
});

describe('openai (v6) against the Responses mock', () => {
  it('responses.create: output_text, the prefixed id, usage, and what the SDK sent', async () => {
    const response = await client.responses.create({ model: 'gpt-4o', input: 'Tell a story' });
    expect(response.output_text).toBe('Once upon a time');
    expect(response.id).toMatch(/^resp_one_\d+$/);
    expect(response.status).toBe('completed');
    expect(response.usage).toMatchObject({ input_tokens: 15, input_tokens_details: { cached_tokens: 5 }, output_tokens: 3, total_tokens: 18 });
    const [sent] = upstream.requests;
    expect(`${sent.method} ${sent.url}`).toBe('POST /v1/responses');
    expect(sent.headers.authorization).toBe(`Bearer ${KEY}`);
  });

  it('responses.stream: the deltas in order, through to response.completed', async () => {
    const stream = client.responses.stream({ model: 'gpt-4o', input: 'Tell a story' });
    const deltas: string[] = [];
    const types: string[] = [];
    stream.on('response.output_text.delta', (event) => deltas.push(event.delta));
    stream.on('event', (event) => types.push(event.type));
    const final = await stream.finalResponse();
    expect(deltas).toEqual(['Once ', 'upon ', 'a time']);
    expect(types.at(-1)).toBe('response.completed');
    expect(final.output_text).toBe('Once upon a time');
    expect(upstream.requests[0].json?.stream).toBe(true);
  });

  it('retrieve, inputItems.list, delete; then retrieve is NotFoundError', async () => {
    const created = await client.responses.create({ model: 'gpt-4o', input: [{ role: 'user', content: 'first' }, { role: 'user', content: 'second' }] });
    expect((await client.responses.retrieve(created.id)).output_text).toBe('Once upon a time');
    const items = [];
    for await (const item of client.responses.inputItems.list(created.id, { order: 'asc' })) items.push(item);
    expect(items.map((item) => (item as { content: { text: string }[] }).content[0].text)).toEqual(['first', 'second']);
    await client.responses.delete(created.id);
    const error = await client.responses.retrieve(created.id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect(upstream.requests.map((r) => `${r.method} ${r.url.replace(created.id, '{id}')}`)).toEqual([
      'POST /v1/responses',
      'GET /v1/responses/{id}',
      'GET /v1/responses/{id}/input_items?order=asc',
      'DELETE /v1/responses/{id}',
      'GET /v1/responses/{id}',
    ]);
  });

  it('cancel: a background response becomes cancelled', async () => {
    const created = await client.responses.create({ model: 'gpt-4o', input: 'long job', background: true });
    expect(created.status).toBe('queued');
    expect((await client.responses.cancel(created.id)).status).toBe('cancelled');
  });

  it('previous_response_id: chained when known, BadRequestError previous_response_not_found when not', async () => {
    const first = await client.responses.create({ model: 'gpt-4o', input: 'one' });
    const second = await client.responses.create({ model: 'gpt-4o', input: 'two', previous_response_id: first.id });
    expect(second.previous_response_id).toBe(first.id);
    const error = await client.responses.create({ model: 'gpt-4o', input: 'x', previous_response_id: 'resp_other_1' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error).toMatchObject({ status: 400, code: 'previous_response_not_found', param: 'previous_response_id' });
  });

  it.each([
    ['rate_limit', 429, OpenAI.RateLimitError],
    ['server_error', 500, OpenAI.InternalServerError],
    ['unavailable', 503, OpenAI.InternalServerError],
  ] as const)('a scripted %s is an APIError subclass with status %i', async (outcome, status, ErrorClass) => {
    mock.script(outcome);
    const error = await client.responses.create({ model: 'gpt-4o', input: 'x' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ErrorClass);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(status);
    expect((error as InstanceType<typeof OpenAI.APIError>).requestID).toMatch(/^req_/);
  });
});

describe('@ai-sdk/openai against the Responses mock', () => {
  const model = () => createOpenAI({ baseURL: upstream.baseUrl, apiKey: KEY })('gpt-4o');

  it('generateText: text, usage and the response id; the default model posts to /responses', async () => {
    const result = await generateText({ model: model(), prompt: 'Tell a story' });
    expect(result.text).toBe('Once upon a time');
    expect(result.usage).toMatchObject({ inputTokens: 15, outputTokens: 3 });
    expect(result.providerMetadata?.openai?.responseId).toMatch(/^resp_one_/);
    const [sent] = upstream.requests;
    expect(`${sent.method} ${sent.url}`).toBe('POST /v1/responses');
    expect(sent.headers.authorization).toBe(`Bearer ${KEY}`);
  });

  it('streamText: the deltas in order and finish reason stop', async () => {
    const result = streamText({ model: model(), prompt: 'Tell a story' });
    const chunks: string[] = [];
    for await (const text of result.textStream) chunks.push(text);
    expect(chunks).toEqual(['Once ', 'upon ', 'a time']);
    expect(await result.finishReason).toBe('stop');
  });

  it('a 429 is a retryable APICallError with statusCode 429', async () => {
    mock.script('rate_limit');
    const error = await generateText({ model: model(), prompt: 'x', maxRetries: 0 }).catch((e: unknown) => e);
    expect(APICallError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ statusCode: 429, isRetryable: true });
  });
});
