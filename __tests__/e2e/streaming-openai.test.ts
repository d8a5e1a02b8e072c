/** The official openai client (v6) streaming through the router. */
import type http from 'node:http';
import OpenAI, { APIError } from 'openai';
import { buildApp, listen, provider } from '../kit/app.js';
import type { TestUpstream } from '../kit/upstream.js';
import { chunkEvent, sleep, startUpstream } from '../kit/upstream.js';

let upstream: TestUpstream;
beforeAll(async () => {
  upstream = await startUpstream(() => {});
});
afterAll(() => upstream.close());
beforeEach(() => {
  upstream.requests.length = 0;
});

function sseHead(res: http.ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  res.flushHeaders();
}

const usageChunk = (model: string) =>
  `data: ${JSON.stringify({ id: 'chatcmpl-test', object: 'chat.completion.chunk', created: 1700000000, model, choices: [], usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 } })}\n\n`;

async function withClient(options: Omit<Parameters<typeof buildApp>[0], 'providers'>, run: (client: OpenAI) => Promise<void>) {
  const built = buildApp({ providers: [provider(upstream.baseUrl)], ...options });
  const server = await listen(built.app);
  const client = new OpenAI({ baseURL: `${server.url}/llm/v1`, apiKey: 'x', maxRetries: 0, timeout: 10_000 });
  try {
    await run(client);
  } finally {
    await server.close();
    await built.router.close();
  }
}

const messages = [{ role: 'user' as const, content: 'hi' }];

describe('openai client streaming through the proxy', () => {
  it('iterates every chunk and the final usage chunk with stream_options.include_usage', async () => {
    upstream.setHandler(async (_req, res, request) => {
      const model = String(request.json?.model);
      sseHead(res);
      for (const word of ['Hel', 'lo', ' there']) {
        res.write(chunkEvent(model, word));
        await sleep(20);
      }
      res.write(chunkEvent(model, '', 'stop'));
      if ((request.json?.stream_options as { include_usage?: boolean } | undefined)?.include_usage) res.write(usageChunk(model));
      res.end('data: [DONE]\n\n');
    });
    await withClient({}, async (client) => {
      const stream = await client.chat.completions.create({ model: 'gpt-test', messages, stream: true, stream_options: { include_usage: true } });
      const chunks = [];
      for await (const chunk of stream) chunks.push(chunk);
      expect(chunks).toHaveLength(5);
      expect(chunks.map((c) => c.choices[0]?.delta.content ?? null).join('|')).toBe('Hel|lo| there||');
      expect(chunks[3].choices[0].finish_reason).toBe('stop');
      expect(chunks[4].choices).toEqual([]);
      expect(chunks[4].usage).toEqual({ prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 });
      expect(chunks.every((c) => c.model === 'upstream-gpt')).toBe(true);
      expect(upstream.requests[0].json?.stream_options).toEqual({ include_usage: true });
    });
  });

  it('still parses a stream with keep-alive comments in it', async () => {
    upstream.setHandler(async (_req, res, request) => {
      const model = String(request.json?.model);
      sseHead(res);
      await sleep(350);
      res.write(chunkEvent(model, 'one'));
      await sleep(350);
      res.write(chunkEvent(model, 'two'));
      res.end('data: [DONE]\n\n');
    });
    await withClient({ heartbeatMs: 100 }, async (client) => {
      const { data: stream, response } = await client.chat.completions.create({ model: 'gpt-test', messages, stream: true }).withResponse();
      expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
      const contents = [];
      for await (const chunk of stream) contents.push(chunk.choices[0].delta.content);
      expect(contents).toEqual(['one', 'two']);
    });
  });

  it('throws an APIError with the proxy message when the TTFT passes after the headers went out', async () => {
    upstream.setHandler((_req, res) => sseHead(res)); // headers, then nothing
    await withClient({ timeouts: { ttftMs: 250 }, heartbeatMs: 100 }, async (client) => {
      const stream = await client.chat.completions.create({ model: 'gpt-test', messages, stream: true });
      const consume = async () => {
        for await (const chunk of stream) void chunk;
      };
      const error = await consume().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(APIError);
      expect((error as APIError).message).toBe('The upstream provider sent no token in time');
      expect((error as APIError).code).toBe('ttft_timeout');
      expect((error as APIError).type).toBe('proxy_error');
    });
  });

  it('throws an APIError when the upstream resets mid-stream, after the chunks before it', async () => {
    upstream.setHandler(async (_req, res, request) => {
      sseHead(res);
      res.write(chunkEvent(String(request.json?.model), 'one'));
      await sleep(50);
      res.socket?.resetAndDestroy();
    });
    await withClient({ heartbeatMs: 0 }, async (client) => {
      const stream = await client.chat.completions.create({ model: 'gpt-test', messages, stream: true });
      const contents: (string | null | undefined)[] = [];
      const error = await (async () => {
        for await (const chunk of stream) contents.push(chunk.choices[0].delta.content);
      })().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(contents).toEqual(['one']);
      expect(error).toBeInstanceOf(APIError);
      expect((error as APIError).code).toBe('upstream_stream_error');
    });
  });

  it('gets a 504 APIError when the TTFT passes before the upstream answers at all', async () => {
    upstream.setHandler(() => {});
    await withClient({ timeouts: { ttftMs: 200 } }, async (client) => {
      const error = await client.chat.completions.create({ model: 'gpt-test', messages, stream: true }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(APIError);
      expect((error as APIError).status).toBe(504);
      expect((error as APIError).code).toBe('upstream_timeout');
    });
  });
});
