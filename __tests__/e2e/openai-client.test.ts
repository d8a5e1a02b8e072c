/** The official `openai` client, pointed at the mounted router, as a real user would use it. */
import OpenAI from 'openai';
import { buildApp, listen, provider, SECRET } from '../kit/app.js';
import type { TestUpstream } from '../kit/upstream.js';
import { okJson, startUpstream } from '../kit/upstream.js';

let upstream: TestUpstream;
let host: Awaited<ReturnType<typeof listen>>;
let close: () => Promise<void>;
let client: OpenAI;

beforeAll(async () => {
  upstream = await startUpstream(okJson);
  const { app, router } = buildApp({ providers: [provider(upstream.baseUrl)], apiKeys: ['sk-client'] });
  host = await listen(app);
  close = () => router.close();
  client = new OpenAI({ apiKey: 'sk-client', baseURL: `${host.url}/llm/v1`, maxRetries: 0, timeout: 10_000 });
});
afterAll(async () => {
  await host.close();
  await close();
  await upstream.close();
});
beforeEach(() => {
  upstream.requests.length = 0;
  upstream.setHandler(okJson);
});

describe('openai client', () => {
  it('gets the chat completion', async () => {
    const completion = await client.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'Say hello' }] });
    expect(completion.choices[0].message.content).toBe('Hello from the mock upstream');
    expect(completion.model).toBe('upstream-gpt');
    expect(upstream.requests[0].url).toBe('/v1/chat/completions');
    expect(upstream.requests[0].headers.authorization).toBe(`Bearer ${SECRET}`);
    expect(upstream.requests[0].json?.messages).toEqual([{ role: 'user', content: 'Say hello' }]);
  });

  it('lists the models', async () => {
    const page = await client.models.list();
    expect(page.data.map((model) => model.id).sort()).toEqual(['embed-test', 'gpt-test']);
  });

  it('gets RateLimitError, with the upstream message and headers, on an upstream 429', async () => {
    upstream.setHandler((_req, res) => {
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '3' });
      res.end(JSON.stringify({ error: { message: 'Rate limit reached for requests', type: 'requests', param: null, code: 'rate_limit_exceeded' } }));
    });
    const error = await client.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    const rateLimit = error as InstanceType<typeof OpenAI.RateLimitError>;
    expect(rateLimit.status).toBe(429);
    expect(rateLimit.code).toBe('rate_limit_exceeded');
    expect(rateLimit.message).toContain('Rate limit reached for requests');
    expect(rateLimit.headers.get('retry-after')).toBe('3');
  });

  it('gets NotFoundError for a model no provider serves', async () => {
    const error = await client.chat.completions.create({ model: 'no-such-model', messages: [] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect((error as InstanceType<typeof OpenAI.NotFoundError>).code).toBe('model_not_found');
    expect(upstream.requests).toHaveLength(0);
  });

  it('gets AuthenticationError with a wrong client key', async () => {
    const stranger = new OpenAI({ apiKey: 'sk-wrong', baseURL: `${host.url}/llm/v1`, maxRetries: 0 });
    const error = await stranger.chat.completions.create({ model: 'gpt-test', messages: [] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((error as InstanceType<typeof OpenAI.AuthenticationError>).code).toBe('invalid_api_key');
  });

  it('gets embeddings', async () => {
    upstream.setHandler((_req, res, recorded) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ object: 'list', data: [{ object: 'embedding', index: 0, embedding: [0.5, -0.25] }], model: recorded.json?.model, usage: { prompt_tokens: 1, total_tokens: 1 } }));
    });
    const result = await client.embeddings.create({ model: 'embed-test', input: 'x', encoding_format: 'float' });
    expect(result.data[0].embedding).toEqual([0.5, -0.25]);
    expect(result.model).toBe('upstream-embed');
  });
});
