/** examples/basic: imported as a module (jest maps `express-llm-proxy` to lib/), and run as `npm start` would. */
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Writable } from 'node:stream';
import OpenAI from 'openai';
import request from 'supertest';
import { createExampleApp, curlLine, displayUrl, listenAddress, MODELS } from '../../examples/basic/index.js';
import type { ExampleApp } from '../../examples/basic/index.js';
import { createExampleLogger } from '../../examples/basic/logger.js';
import { ensureDist, root } from '../fixtures/ensure-dist.js';
import { listen } from '../kit/app.js';
import { sseErrorCodes } from '../kit/client.js';

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

  it('has a liveness route that needs no key and calls no upstream, and a body parser scoped to its own path', async () => {
    await request(example.app).get('/healthz').expect(200, { ok: true });
    await request(example.app).post('/api/feedback').send({ stars: 5 }).expect(200, { received: { stars: 5 } });
  });

  it('reads PORT and HOST, defaulting to 127.0.0.1:3000, and prints a URL that can be opened', () => {
    expect(listenAddress({})).toEqual({ port: 3000, host: '127.0.0.1' });
    expect(listenAddress({ PORT: '8080', HOST: '0.0.0.0' })).toEqual({ port: 8080, host: '0.0.0.0' });
    expect(listenAddress({ PORT: '0' })).toEqual({ port: 0, host: '127.0.0.1' });
    expect(() => listenAddress({ PORT: 'eighty' })).toThrow(/PORT must be a port number/);
    expect(displayUrl('127.0.0.1', 3000)).toBe('http://127.0.0.1:3000');
    expect(displayUrl('0.0.0.0', 3000)).toBe('http://localhost:3000');
    expect(displayUrl('::1', 3000)).toBe('http://[::1]:3000');
  });

  it('proxies to the real OpenAI API when a key is given (checked without calling it)', async () => {
    const real = await createExampleApp({ openaiApiKey: 'sk-not-a-real-key', routerOptions: { logRequests: false } });
    expect(real.upstream).toBe('openai');
    const res = await request(real.app).get('/llm/v1/models').expect(200);
    expect(res.body.data.map((m: { id: string; owned_by: string }) => [m.id, m.owned_by])).toContainEqual(['gpt-4o-mini', 'openai']);
    await real.close();
  });
});

describe('the example logger', () => {
  async function logOnce(pretty: boolean): Promise<string> {
    let written = '';
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        written += chunk.toString();
        done();
      },
    });
    const logger = createExampleLogger({ pretty, stream });
    logger.log('info', 'POST /llm/v1/chat/completions 200', { method: 'POST', path: '/llm/v1/chat/completions', status: 200, request_id: 'r1', provider: 'mock', model: 'gpt-4o-mini', duration: 12.3, usage: { total_tokens: 3 } });
    await new Promise((resolve) => setImmediate(resolve));
    return written;
  }

  it('writes one readable line per entry on a terminal', async () => {
    const text = await logOnce(true);
    expect(text.split('\n').filter(Boolean)).toHaveLength(1);
    expect(text).toMatch(/^\d\d:\d\d:\d\d info POST \/llm\/v1\/chat\/completions 200 provider=mock model=gpt-4o-mini duration=12\.3 usage=\{"total_tokens":3\}\n$/);
  });

  it('writes JSON lines otherwise', async () => {
    const entry = JSON.parse(await logOnce(false));
    expect(entry).toMatchObject({ level: 'info', message: 'POST /llm/v1/chat/completions 200', status: 200, request_id: 'r1', provider: 'mock', timestamp: expect.any(String) });
  });
});

interface RunningExample {
  child: ChildProcessWithoutNullStreams;
  output: () => string;
  errors: () => string;
  exited: Promise<number | null>;
}

/** Runs `node examples/basic/index.js` as `npm start` would, with the mock upstream. */
function runExample(env: Record<string, string> = {}): RunningExample {
  ensureDist();
  const childEnv: NodeJS.ProcessEnv = { ...process.env, PORT: '0', NODE_NO_WARNINGS: '1', ...env };
  delete childEnv.OPENAI_API_KEY;
  delete childEnv.HOST;
  if (env.HOST !== undefined) childEnv.HOST = env.HOST;
  const child = spawn(process.execPath, [path.join(root, 'examples/basic/index.js')], { cwd: root, env: childEnv });
  let output = '';
  let errors = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, errors: () => errors, exited };
}

/** The URL of the printed curl line, once it is printed. */
async function printedUrl(example: RunningExample): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const look = () => {
      const match = /curl (http:\/\/[^\s/]+)\/llm\/v1\/chat\/completions/.exec(example.output());
      if (match) resolve(match[1]);
    };
    example.child.stdout.on('data', look);
    look();
    void example.exited.then((code) => reject(new Error(`example exited (${code}): ${example.output()}${example.errors()}`)));
  });
}

/** Starts a stream through the example and resolves once its first chunk is in. */
function startStream(url: string, words: number): Promise<{ body: Promise<string> }> {
  const content = Array.from({ length: words }, (_, i) => `w${i}`).join(' ');
  const payload = JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content }] });
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}/llm/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      const body = new Promise<string>((done) => {
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => done(text));
        res.on('error', () => done(text));
      });
      res.once('data', () => resolve({ body }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

// The spawned process uses the real `express` (5) whatever this project maps, so it runs once.
(EXPRESS_MAJOR === 5 ? describe : describe.skip)('examples/basic run directly (npm start)', () => {
  it('listens on 127.0.0.1 by default, prints a curl line that works, and stops on SIGTERM', async () => {
    const example = runExample();
    try {
      const url = await printedUrl(example);
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(example.output()).toContain(curlLine(url));
      // What the printed curl line sends.
      const res = await fetch(`${url}/llm/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hello!' }] }) });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { choices: { message: { content: string } }[] }).choices[0].message.content).toContain('You said "Hello!"');
    } finally {
      example.child.kill('SIGTERM');
    }
    expect(await example.exited).toBe(0);
  });

  it('says plainly that the port is busy, and exits 1 (no TypeError)', async () => {
    const busy = http.createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const { port } = busy.address() as AddressInfo;
    try {
      const example = runExample({ PORT: String(port) });
      expect(await example.exited).toBe(1);
      expect(example.errors()).toContain(`Port ${port} on 127.0.0.1 is already in use`);
      expect(example.errors()).toContain(`PORT=${port + 1} npm start`);
      expect(example.errors()).not.toMatch(/TypeError/);
    } finally {
      busy.close();
    }
  });

  it('on SIGTERM stops accepting, lets a stream in flight finish, then exits 0', async () => {
    const example = runExample({ SHUTDOWN_GRACE_MS: '20000' });
    const url = await printedUrl(example);
    const stream = await startStream(url, 40); // about 1.2 s of chunks from the mock
    example.child.kill('SIGTERM');
    await new Promise((resolve) => example.child.stdout.once('data', resolve)); // "SIGTERM: shutting down"
    await expect(fetch(`${url}/healthz`)).rejects.toThrow(); // no longer accepting
    const body = await stream.body;
    expect(body).toContain('w39');
    expect(body.trimEnd().endsWith('data: [DONE]')).toBe(true);
    expect(sseErrorCodes(body)).toEqual([]);
    expect(await example.exited).toBe(0);
    expect(example.output()).toMatch(/SIGTERM: shutting down; in-flight requests have 20000 ms to finish/);
  });

  it('on SIGTERM ends a stream that outlives the grace period with a proxy_closed event', async () => {
    const example = runExample({ SHUTDOWN_GRACE_MS: '100' });
    const url = await printedUrl(example);
    const stream = await startStream(url, 200); // about 6 s of chunks
    example.child.kill('SIGTERM');
    const body = await stream.body;
    expect(sseErrorCodes(body)).toEqual(['proxy_closed']);
    expect(body).not.toContain('w199');
    expect(await example.exited).toBe(0);
  });
});
