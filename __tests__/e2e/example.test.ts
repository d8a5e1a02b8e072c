/** examples/basic: imported as a module (jest maps `express-llm-proxy` to lib/), and run as `npm start` would. */
import { spawn } from 'node:child_process';
import path from 'node:path';
import OpenAI from 'openai';
import request from 'supertest';
import { createExampleApp, curlLine, MODELS } from '../../examples/basic/index.js';
import type { ExampleApp } from '../../examples/basic/index.js';
import { ensureDist, root } from '../fixtures/ensure-dist.js';
import { listen } from '../kit/app.js';

declare const EXPRESS_MAJOR: 4 | 5;

const hello = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'Hello, proxy!' }] };
const expectedReply = 'You said "Hello, proxy!". This is a deterministic reply from the mock upstream.';

let example: ExampleApp;
let host: Awaited<ReturnType<typeof listen>>;
beforeAll(async () => {
  example = await createExampleApp({ openaiApiKey: '', chunkDelayMs: 2, routerOptions: { logRequests: false } });
  host = await listen(example.app);
});
afterAll(async () => {
  await host.close();
  await example.close();
});

describe('examples/basic as a module', () => {
  it('uses the mock upstream without OPENAI_API_KEY and serves its own route', async () => {
    expect(example.upstream).toBe('mock');
    const res = await request(example.app).get('/').expect(200);
    expect(res.body).toMatchObject({ upstream: 'mock', proxy: '/llm/v1' });
  });

  it('proxies a chat completion to a deterministic answer, under the mapped model', async () => {
    const first = await request(example.app).post('/llm/v1/chat/completions').send(hello).expect(200);
    const second = await request(example.app).post('/llm/v1/chat/completions').send(hello).expect(200);
    expect(first.body.choices[0].message.content).toBe(expectedReply);
    expect(first.body.model).toBe('mock-gpt-4o-mini');
    expect(second.body).toEqual(first.body);
    expect(first.headers['x-llm-proxy-provider']).toBe('mock');
  });

  it('lists its models', async () => {
    const res = await request(example.app).get('/llm/v1/models').expect(200);
    expect(res.body.data.map((m: { id: string }) => m.id)).toEqual(MODELS);
  });

  it('streams through the openai client, with a usage chunk when asked', async () => {
    const client = new OpenAI({ apiKey: 'unused', baseURL: `${host.url}/llm/v1`, maxRetries: 0 });
    const stream = await client.chat.completions.create({ ...hello, stream: true, stream_options: { include_usage: true } });
    let text = '';
    let chunks = 0;
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      expect(chunk.object).toBe('chat.completion.chunk');
      chunks += 1;
      text += chunk.choices[0]?.delta.content ?? '';
      usage = chunk.usage ?? usage;
    }
    expect(text).toBe(expectedReply);
    expect(chunks).toBeGreaterThan(5);
    expect(usage).toMatchObject({ completion_tokens: expectedReply.split(' ').length, total_tokens: expect.any(Number) });
  });

  it('sends raw SSE ending with data: [DONE], without a usage chunk unless asked', async () => {
    const res = await fetch(`${host.url}/llm/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...hello, stream: true }) });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const body = await res.text();
    expect(body.endsWith('data: [DONE]\n\n')).toBe(true);
    expect(body).not.toContain('"usage"');
    expect(body).toContain('"finish_reason":"stop"');
  });

  it('answers embeddings and legacy completions deterministically', async () => {
    const a = await request(example.app).post('/llm/v1/embeddings').send({ model: 'text-embedding-3-small', input: ['a', 'b'] }).expect(200);
    const b = await request(example.app).post('/llm/v1/embeddings').send({ model: 'text-embedding-3-small', input: ['a', 'b'] }).expect(200);
    expect(a.body.data).toHaveLength(2);
    expect(a.body.data[0].embedding).toEqual(b.body.data[0].embedding);
    expect(a.body.data[0].embedding).not.toEqual(a.body.data[1].embedding);
    const c = await request(example.app).post('/llm/v1/completions').send({ model: 'gpt-3.5-turbo-instruct', prompt: 'Once' }).expect(200);
    expect(c.body.choices[0].text).toMatch(/^Once /);
  });

  it('proxies to the real OpenAI API when a key is given (checked without calling it)', async () => {
    const real = await createExampleApp({ openaiApiKey: 'sk-not-a-real-key', routerOptions: { logRequests: false } });
    expect(real.upstream).toBe('openai');
    const res = await request(real.app).get('/llm/v1/models').expect(200);
    expect(res.body.data.map((m: { id: string; owned_by: string }) => [m.id, m.owned_by])).toContainEqual(['gpt-4o-mini', 'openai']);
    await real.close();
  });
});

// The spawned process uses the real `express` (5) whatever this project maps, so it runs once.
(EXPRESS_MAJOR === 5 ? describe : describe.skip)('examples/basic run directly (npm start)', () => {
  it('listens, prints a curl line that works, and stops on SIGTERM', async () => {
    ensureDist();
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0', NODE_NO_WARNINGS: '1' };
    delete env.OPENAI_API_KEY;
    const child = spawn(process.execPath, [path.join(root, 'examples/basic/index.js')], { cwd: root, env });
    let output = '';
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          output += chunk.toString();
          const match = /curl (http:\/\/localhost:\d+)\/llm\/v1\/chat\/completions/.exec(output);
          if (match) resolve(match[1]);
        });
        void exited.then((code) => reject(new Error(`example exited (${code}): ${output}`)));
      });
      expect(output).toContain(curlLine(url));
      // What the printed curl line sends.
      const res = await fetch(`${url}/llm/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hello!' }] }) });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { choices: { message: { content: string } }[] }).choices[0].message.content).toContain('You said "Hello!"');
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });
});
