/**
 * The OpenAI Responses API through the router, with the official clients unchanged (`openai` v6
 * and the Vercel AI SDK's default `openai(...)` model), against two Responses mocks that tell their
 * ids apart (`resp_a_…`, `resp_b_…`): follow-ups and continuations reach the provider holding the
 * response, whichever way the round-robin turns.
 */
import { createOpenAI } from '@ai-sdk/openai';
import { generateText, streamText } from 'ai';
import OpenAI from 'openai';
import { buildApp, listen } from '../kit/app.js';
import { responsesUpstream } from '../kit/responses-upstream.js';
import type { ResponsesUpstream } from '../kit/responses-upstream.js';
import type { TestUpstream } from '../kit/upstream.js';
import { startUpstream } from '../kit/upstream.js';
import type { LlmProxyRouter } from '../../lib/index.js';

(globalThis as { AI_SDK_LOG_WARNINGS?: boolean }).AI_SDK_LOG_WARNINGS = false;

const KEY = 'sk-upstream-responses-0123';
const mocks: Record<'a' | 'b', ResponsesUpstream> = {
  a: responsesUpstream({ prefix: 'a', apiKey: KEY, text: ['Once ', 'upon ', 'a time'] }),
  b: responsesUpstream({ prefix: 'b', apiKey: KEY, text: ['Once ', 'upon ', 'a time'] }),
};
const upstreams: Partial<Record<'a' | 'b', TestUpstream>> = {};
let router: LlmProxyRouter;
let entries: Record<string, unknown>[];
let proxy: Awaited<ReturnType<typeof listen>>;
let client: OpenAI;

beforeAll(async () => {
  upstreams.a = await startUpstream(mocks.a);
  upstreams.b = await startUpstream(mocks.b);
  const provider = (name: 'a' | 'b', id: number) => ({ id, key: name, baseUrl: upstreams[name]!.baseUrl, apiKey: KEY, models: { 'gpt-test': 'gpt-upstream' } });
  const built = buildApp({ providers: [provider('a', 1), provider('b', 2)], heartbeatMs: 0 });
  router = built.router;
  entries = built.entries;
  proxy = await listen(built.app);
  client = new OpenAI({ apiKey: 'client', baseURL: `${proxy.url}/llm/v1`, maxRetries: 0 });
});
afterAll(async () => {
  await router.close();
  await proxy.close();
  await upstreams.a?.close();
  await upstreams.b?.close();
});
beforeEach(() => {
  upstreams.a!.requests.length = 0;
  upstreams.b!.requests.length = 0;
  entries.length = 0;
});

/** Which mock created a response, from its id. */
const creator = (id: string): 'a' | 'b' => (/^resp_(a|b)_/.exec(id)![1] as 'a' | 'b');
/** `METHOD url` of every request a mock received, the id replaced by `{id}`. */
const seen = (name: 'a' | 'b', id: string) => upstreams[name]!.requests.map((r) => `${r.method} ${r.url.replace(id, '{id}')}`);

describe('openai (v6) through the router', () => {
  it('responses.create: the output, and the mapped model upstream', async () => {
    const response = await client.responses.create({ model: 'gpt-test', input: 'Tell a story' });
    expect(response.output_text).toBe('Once upon a time');
    expect(response.model).toBe('gpt-upstream');
    expect(entries.find((e) => e.path === '/llm/v1/responses')).toMatchObject({ api: 'responses', model: 'gpt-test', usage: { input_tokens: 11, output_tokens: 6 } });
  });

  it('responses.stream to response.completed; the response is then found where the stream created it', async () => {
    for (let i = 0; i < 2; i++) {
      const stream = client.responses.stream({ model: 'gpt-test', input: 'Tell a story' });
      const deltas: string[] = [];
      stream.on('response.output_text.delta', (event) => deltas.push(event.delta));
      const final = await stream.finalResponse();
      expect(deltas).toEqual(['Once ', 'upon ', 'a time']);
      expect(final.status).toBe('completed');
      const retrieved = await client.responses.retrieve(final.id);
      expect(retrieved.id).toBe(final.id);
      expect(seen(creator(final.id), final.id).at(-1)).toBe('GET /v1/responses/{id}');
    }
  });

  it('retrieve, inputItems.list and delete reach the creating provider, with two serving the API', async () => {
    const created = [await client.responses.create({ model: 'gpt-test', input: 'one' }), await client.responses.create({ model: 'gpt-test', input: 'two' })];
    expect(new Set(created.map((r) => creator(r.id)))).toEqual(new Set(['a', 'b'])); // the round-robin used both
    for (const response of created) {
      upstreams.a!.requests.length = 0;
      upstreams.b!.requests.length = 0;
      expect((await client.responses.retrieve(response.id)).id).toBe(response.id);
      const items = [];
      for await (const item of client.responses.inputItems.list(response.id, { order: 'asc' })) items.push(item);
      expect(items).toHaveLength(1);
      await client.responses.delete(response.id);
      const home = creator(response.id);
      const other = home === 'a' ? 'b' : 'a';
      expect(seen(home, response.id)).toEqual(['GET /v1/responses/{id}', 'GET /v1/responses/{id}/input_items?order=asc', 'DELETE /v1/responses/{id}']);
      expect(upstreams[other]!.requests).toHaveLength(0);
    }
    const followUps = entries.filter((e) => String(e.path).startsWith('/llm/v1/responses/'));
    expect(followUps.map((e) => e.api)).toEqual(['responses', 'responses', 'responses', 'responses', 'responses', 'responses']);
  });

  it('cancel reaches the creating provider', async () => {
    for (let i = 0; i < 2; i++) {
      const created = await client.responses.create({ model: 'gpt-test', input: 'long job', background: true });
      expect((await client.responses.cancel(created.id)).status).toBe('cancelled');
      expect(seen(creator(created.id), created.id).at(-1)).toBe('POST /v1/responses/{id}/cancel');
    }
  });

  it('previous_response_id pins a new request to the provider holding that response', async () => {
    const first = await client.responses.create({ model: 'gpt-test', input: 'one' });
    for (let i = 0; i < 4; i++) {
      const next = await client.responses.create({ model: 'gpt-test', input: 'more', previous_response_id: first.id });
      expect(creator(next.id)).toBe(creator(first.id)); // else the other mock would answer 400 previous_response_not_found
      expect(next.previous_response_id).toBe(first.id);
    }
  });

  it('an id the proxy never saw, with two providers serving the API: 404 response_not_found', async () => {
    const error = await client.responses.retrieve('resp_elsewhere_1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect(error).toMatchObject({ status: 404, code: 'response_not_found' });
    expect(upstreams.a!.requests.length + upstreams.b!.requests.length).toBe(0);
  });
});

describe('the Vercel AI SDK\'s default openai(...) model through the router', () => {
  const model = () => createOpenAI({ baseURL: `${proxy.url}/llm/v1`, apiKey: 'client' })('gpt-test');

  it('generateText posts to /v1/responses and gets the text and response id', async () => {
    const result = await generateText({ model: model(), prompt: 'Tell a story' });
    expect(result.text).toBe('Once upon a time');
    expect(result.providerMetadata?.openai?.responseId).toMatch(/^resp_(a|b)_/);
  });

  it('streamText: the deltas in order, finish reason stop', async () => {
    const result = streamText({ model: model(), prompt: 'Tell a story' });
    const chunks: string[] = [];
    for await (const text of result.textStream) chunks.push(text);
    expect(chunks).toEqual(['Once ', 'upon ', 'a time']);
    expect(await result.finishReason).toBe('stop');
  });
});
