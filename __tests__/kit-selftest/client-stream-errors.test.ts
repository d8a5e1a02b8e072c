/**
 * What each official client makes of a failure inside a 200 stream, as observed against the mocks
 * (NOTES-clients.md, item 2). These pin the clients' behaviour: when a client upgrade changes it,
 * a test here goes red and the proxy's error events may need another look.
 */
import Anthropic from '@anthropic-ai/sdk';
import { createAnthropic } from '@ai-sdk/anthropic';
import { createOpenAI } from '@ai-sdk/openai';
import type { LanguageModel } from 'ai';
import { APICallError, TypeValidationError, streamText } from 'ai';
import OpenAI from 'openai';
import { messagesUpstream } from '../kit/messages-upstream.js';
import { responsesUpstream } from '../kit/responses-upstream.js';
import type { TestUpstream } from '../kit/upstream.js';
import { startUpstream } from '../kit/upstream.js';

(globalThis as { AI_SDK_LOG_WARNINGS?: boolean }).AI_SDK_LOG_WARNINGS = false;

const messages = messagesUpstream({ text: ['a', 'b', 'c', 'd'] });
const responses = responsesUpstream({ text: ['a', 'b', 'c', 'd'], streamError: { code: 'stream_idle_timeout', message: 'Stream idle timeout' } });
let anthropicUp: TestUpstream;
let openaiUp: TestUpstream;
beforeAll(async () => {
  anthropicUp = await startUpstream(messages);
  openaiUp = await startUpstream(responses);
});
afterAll(async () => {
  await anthropicUp.close();
  await openaiUp.close();
});
beforeEach(() => {
  messages.options.streamErrorAfter = 5;
  messages.options.unknownEvent = undefined;
  responses.options.streamErrorAfter = 6;
  anthropicUp.requests.length = 0;
  openaiUp.requests.length = 0;
});

/** streamText's parts, simplified: text deltas as strings, errors as their error, the finish reason. */
async function aiParts(model: LanguageModel, maxRetries = 0): Promise<unknown[]> {
  const parts: unknown[] = [];
  const result = streamText({ model, prompt: 'hi', maxRetries, onError: () => {} });
  for await (const part of result.fullStream) {
    if (part.type === 'text-delta') parts.push(part.text);
    else if (part.type === 'error') parts.push({ error: part.error });
    else if (part.type === 'finish') parts.push({ finish: part.finishReason });
  }
  return parts;
}

describe('Anthropic event: error mid-stream', () => {
  const params = { model: 'claude-mock-1', max_tokens: 64, messages: [{ role: 'user' as const, content: 'hi' }] };
  const client = () => new Anthropic({ apiKey: 'k', baseURL: anthropicUp.origin, maxRetries: 0 });
  const aiModel = () => createAnthropic({ baseURL: anthropicUp.baseUrl, apiKey: 'k' })('claude-mock-1');

  it('@anthropic-ai/sdk throws a plain APIError (no status, no subclass) with error.type, after the deltas before it', async () => {
    messages.script('stream:api_error');
    const seen: string[] = [];
    const error = await (async () => {
      for await (const event of await client().messages.create({ ...params, stream: true })) seen.push(event.type);
    })().catch((e: unknown) => e);
    expect(seen).toEqual(['message_start', 'content_block_start', 'content_block_delta', 'content_block_delta']);
    expect((error as object).constructor).toBe(Anthropic.APIError);
    expect(error).toMatchObject({ status: undefined, type: 'api_error', error: { type: 'error', error: { type: 'api_error', message: 'Internal server error' } } });
    expect((error as Error).message).toBe('{"type":"error","error":{"type":"api_error","message":"Internal server error"}}');
  });

  it('@anthropic-ai/sdk messages.stream: finalMessage() rejects the same way, also for overloaded_error (not OverloadedError)', async () => {
    messages.script('stream:overloaded_error');
    const stream = client().messages.stream(params);
    const texts: string[] = [];
    stream.on('text', (text) => texts.push(text));
    const error = await stream.finalMessage().catch((e: unknown) => e);
    expect(texts).toEqual(['a', 'b']);
    expect((error as object).constructor).toBe(Anthropic.APIError);
    expect(error).toMatchObject({ status: undefined, type: 'overloaded_error' });
  });

  it('@ai-sdk/anthropic after output: an error part with the plain error object, the text so far, finish reason error', async () => {
    messages.script('stream:api_error');
    expect(await aiParts(aiModel())).toEqual(['a', 'b', { error: { type: 'api_error', message: 'Internal server error' } }, { finish: 'error' }]);
  });

  it('@ai-sdk/anthropic, error as the first event: an APICallError, retryable (so retried) only for overloaded_error', async () => {
    messages.options.streamErrorAfter = 0;
    messages.script('stream:api_error');
    const [apiError] = await aiParts(aiModel());
    expect(APICallError.isInstance((apiError as { error: unknown }).error)).toBe(true);
    expect((apiError as { error: APICallError }).error).toMatchObject({ statusCode: 500, isRetryable: false, message: 'Internal server error' });
    messages.script('stream:overloaded_error', 'ok');
    expect(await aiParts(aiModel(), 1)).toEqual(['a', 'b', 'c', 'd', { finish: 'stop' }]);
    expect(anthropicUp.requests).toHaveLength(3);
  });

  it('@ai-sdk/anthropic reports an unknown event type as a TypeValidationError part, and goes on to finish', async () => {
    messages.options.unknownEvent = 'future_event';
    const parts = await aiParts(aiModel());
    expect(TypeValidationError.isInstance((parts[0] as { error: unknown }).error)).toBe(true);
    expect(parts.slice(1)).toEqual(['a', 'b', 'c', 'd', { finish: 'stop' }]);
  });
});

describe('Responses failures mid-stream', () => {
  const client = () => new OpenAI({ apiKey: 'k', baseURL: openaiUp.baseUrl, maxRetries: 0 });
  const aiModel = () => createOpenAI({ baseURL: openaiUp.baseUrl, apiKey: 'k' })('gpt-4o');
  const errorEvent = { type: 'error', code: 'stream_idle_timeout', message: 'Stream idle timeout', param: null };

  it.each([
    ['stream:error', { ...errorEvent, sequence_number: 6 }],
    ['stream:error-unsequenced', errorEvent],
  ] as const)('openai responses.create stream: %s is yielded as an event, nothing thrown', async (outcome, event) => {
    responses.script(outcome);
    const seen: unknown[] = [];
    for await (const e of await client().responses.create({ model: 'gpt-4o', input: 'hi', stream: true })) seen.push(e);
    expect(seen).toHaveLength(7);
    expect(seen.at(-1)).toEqual(event);
  });

  it.each([
    ['stream:error', { ...errorEvent, sequence_number: 6 }],
    ['stream:error-unsequenced', errorEvent],
  ] as const)('openai responses.stream: %s rejects finalResponse() with the event object itself (not an Error)', async (outcome, event) => {
    responses.script(outcome);
    const stream = client().responses.stream({ model: 'gpt-4o', input: 'hi' });
    const emitted: unknown[] = [];
    stream.on('error', (error) => emitted.push(error));
    const error = await stream.finalResponse().catch((e: unknown) => e);
    expect(error).toEqual(event);
    expect(error).not.toBeInstanceOf(Error);
    expect(emitted).toEqual([event]);
  });

  it('openai: response.failed is an event like any other; responses.stream resolves with status failed', async () => {
    responses.script('stream:failed');
    const seen: string[] = [];
    for await (const e of await client().responses.create({ model: 'gpt-4o', input: 'hi', stream: true })) seen.push(e.type);
    expect(seen.at(-1)).toBe('response.failed');
    responses.script('stream:failed');
    const final = await client().responses.stream({ model: 'gpt-4o', input: 'hi' }).finalResponse();
    expect(final).toMatchObject({ status: 'failed', error: { code: 'stream_idle_timeout', message: 'Stream idle timeout' } });
  });

  it('@ai-sdk/openai after output: event: error with sequence_number is an error part with code and message', async () => {
    responses.script('stream:error');
    const parts = await aiParts(aiModel());
    expect(parts.slice(0, 2)).toEqual(['a', 'b']);
    expect(parts[2]).toEqual({ error: expect.objectContaining({ type: 'error', code: 'stream_idle_timeout', message: 'Stream idle timeout', isRetryable: true }) });
    expect(parts[3]).toEqual({ finish: 'error' });
  });

  it('@ai-sdk/openai rejects event: error without sequence_number: a TypeValidationError part instead', async () => {
    responses.script('stream:error-unsequenced');
    const parts = await aiParts(aiModel());
    expect(parts.slice(0, 2)).toEqual(['a', 'b']);
    expect(TypeValidationError.isInstance((parts[2] as { error: unknown }).error)).toBe(true);
    expect(parts[3]).toEqual({ finish: 'error' });
  });

  it('@ai-sdk/openai: response.failed after output is an error part of type response.failed', async () => {
    responses.script('stream:failed');
    const parts = await aiParts(aiModel());
    expect(parts[2]).toEqual({ error: expect.objectContaining({ type: 'response.failed', code: 'stream_idle_timeout', message: 'Stream idle timeout' }) });
    expect(parts[3]).toEqual({ finish: 'error' });
  });

  it('@ai-sdk/openai, failure before any output (after response.created): a retryable APICallError, so retried', async () => {
    responses.options.streamErrorAfter = 1;
    responses.script('stream:error');
    const [first] = await aiParts(aiModel());
    expect(APICallError.isInstance((first as { error: unknown }).error)).toBe(true);
    expect((first as { error: APICallError }).error).toMatchObject({ statusCode: 504, isRetryable: true, message: 'Stream idle timeout' });
    responses.script('stream:failed', 'ok');
    expect(await aiParts(aiModel(), 1)).toEqual(['a', 'b', 'c', 'd', { finish: 'stop' }]);
    expect(openaiUp.requests).toHaveLength(3);
  });
});
