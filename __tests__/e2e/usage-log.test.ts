/** Token usage on the request log entry, read from the answer as it passes: JSON, large forwarded JSON, streams. */
import request from 'supertest';
import { buildApp, listen, provider } from '../kit/app.js';
import { chunkEvent, completion, sleep, useUpstream } from '../kit/upstream.js';
import { timedPost, waitFor } from '../kit/stream-client.js';
import { failOnUnhandledErrors } from '../kit/unhandled.js';

const upstream = useUpstream();
failOnUnhandledErrors();

const PATH = '/llm/v1/chat/completions';
const chat = (extra: Record<string, unknown> = {}) => ({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }], ...extra });
const USAGE = { prompt_tokens: 12, completion_tokens: 34, total_tokens: 46, prompt_tokens_details: { cached_tokens: 8 }, completion_tokens_details: { reasoning_tokens: 20 } };

async function entryOf(entries: Record<string, unknown>[]): Promise<Record<string, unknown>> {
  await waitFor(() => entries.length === 1, 3000, 'the log entry');
  await sleep(20);
  return entries[0];
}

describe('usage on the log entry', () => {
  it('comes from a JSON answer, with cached and reasoning tokens when the upstream gave them', async () => {
    upstream.setHandler((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ...completion('upstream-gpt'), usage: USAGE }));
    });
    const { app, router, entries } = buildApp({ providers: [provider(upstream.baseUrl)] });
    await request(app).post(PATH).send(chat()).expect(200);
    expect((await entryOf(entries)).usage).toEqual({ input_tokens: 12, output_tokens: 34, total_tokens: 46, cached_input_tokens: 8, reasoning_tokens: 20 });
    await router.close();
  });

  it('comes from a large answer forwarded as it arrives, the bytes untouched', async () => {
    const body = JSON.stringify({ ...completion('upstream-gpt', 'x'.repeat(2 * 1024 * 1024)), usage: USAGE });
    upstream.setHandler((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(body);
    });
    const { app, router, entries } = buildApp({ providers: [provider(upstream.baseUrl)] });
    const res = await request(app).post(PATH).send(chat()).buffer(true).parse((r, done) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => done(null, Buffer.concat(chunks)));
    });
    expect((res.body as Buffer).equals(Buffer.from(body))).toBe(true);
    expect((await entryOf(entries)).usage).toMatchObject({ input_tokens: 12, output_tokens: 34, total_tokens: 46 });
    await router.close();
  });

  it('comes from the usage chunk of a stream', async () => {
    upstream.setHandler((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(chunkEvent('upstream-gpt', 'Hel'));
      res.write(chunkEvent('upstream-gpt', 'lo', 'stop'));
      res.write(`data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', choices: [], usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } })}\n\n`);
      res.end('data: [DONE]\n\n');
    });
    const { app, router, entries } = buildApp({ providers: [provider(upstream.baseUrl)], heartbeatMs: 0 });
    const server = await listen(app);
    const client = timedPost(server.url + PATH, chat({ stream: true, stream_options: { include_usage: true } }));
    await client.done;
    expect((await entryOf(entries)).usage).toEqual({ input_tokens: 3, output_tokens: 2, total_tokens: 5 });
    await server.close();
    await router.close();
  });

  it('comes from an embeddings answer (input tokens only)', async () => {
    upstream.setHandler((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ object: 'list', data: [{ object: 'embedding', index: 0, embedding: [0.1, 0.2] }], model: 'upstream-embed', usage: { prompt_tokens: 7, total_tokens: 7 } }));
    });
    const { app, router, entries } = buildApp({ providers: [provider(upstream.baseUrl)] });
    await request(app).post('/llm/v1/embeddings').send({ model: 'embed-test', input: 'hi' }).expect(200);
    expect((await entryOf(entries)).usage).toEqual({ input_tokens: 7, output_tokens: 0, total_tokens: 7 });
    await router.close();
  });

  it('is absent when the upstream reported none, and for error answers', async () => {
    upstream.setHandler((_req, res) => {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'bad', type: 'invalid_request_error', param: null, code: null }, usage: USAGE }));
    });
    const { app, router, entries } = buildApp({ providers: [provider(upstream.baseUrl)] });
    await request(app).post(PATH).send(chat()).expect(400);
    expect(await entryOf(entries)).not.toHaveProperty('usage');
    await router.close();
  });
});
