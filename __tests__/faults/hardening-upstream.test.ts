/**
 * Upstream answers an adversarial review aimed at: redirects that would carry the provider's key
 * elsewhere, compressed answers that decode to far more than they weigh, and content-encodings
 * the proxy cannot (or can only partly) decode.
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import zlib from 'node:zlib';
import nodeFetch from 'node-fetch';
import { Agent, interceptors } from 'undici';
import { buildApp, listen, provider, SECRET } from '../kit/app.js';
import { postJson } from '../kit/client.js';
import type { TestUpstream } from '../kit/upstream.js';
import { chunkEvent, completion, startUpstream } from '../kit/upstream.js';
import { createUndiciTransport, HealthCheckService } from '../../lib/index.js';
import type { FetchLike } from '../../lib/index.js';
import { dist, ensureDist, root } from '../fixtures/ensure-dist.js';

declare const EXPRESS_MAJOR: 4 | 5;

let first: TestUpstream;
/** Where the redirects point: nothing may ever arrive here. */
let elsewhere: TestUpstream;

beforeAll(async () => {
  first = await startUpstream((_req, res) => {
    res.end();
  });
  elsewhere = await startUpstream((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"stolen":true}');
  });
});
afterAll(async () => {
  await first.close();
  await elsewhere.close();
});
beforeEach(() => {
  first.requests.length = 0;
  elsewhere.requests.length = 0;
});

const transports: [string, FetchLike | undefined][] = [
  ['the default transport', undefined],
  ['global fetch', globalThis.fetch],
  ['node-fetch', nodeFetch],
];
const chat = { model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] };

describe.each(transports)('redirects are never followed: %s', (_name, fetchImpl) => {
  it.each([301, 302, 303, 307, 308])('a %i is passed through (status, location, body) and nothing reaches the other origin', async (status) => {
    const location = `${elsewhere.baseUrl}/chat/completions`;
    const body = `{"moved":${status}}`;
    first.setHandler((_req, res) => {
      res.writeHead(status, { location, 'content-type': 'application/json', 'x-upstream': 'first' });
      res.end(body);
    });
    const { app, router } = buildApp({ providers: [provider(first.baseUrl)], ...(fetchImpl ? { fetch: fetchImpl } : {}) });
    const host = await listen(app);
    try {
      const res = await postJson(`${host.url}/llm/v1/chat/completions`, chat);
      expect(res.status).toBe(status);
      expect(res.headers.location).toBe(location);
      expect(res.headers['x-upstream']).toBe('first');
      expect(res.text).toBe(body);
      expect(first.requests).toHaveLength(1);
      expect(first.requests[0].headers.authorization).toBe(`Bearer ${SECRET}`);
      expect(elsewhere.requests).toHaveLength(0);
    } finally {
      await host.close();
      await router.close();
    }
  });

  it('a health probe answered with a redirect is unhealthy, and the probe goes nowhere else', async () => {
    first.setHandler((_req, res) => {
      res.writeHead(307, { location: `${elsewhere.baseUrl}/chat/completions` });
      res.end();
    });
    const service = new HealthCheckService({ providers: [provider(first.baseUrl)], ...(fetchImpl ? { fetch: fetchImpl } : {}) });
    try {
      const report = await service.checkProvider(1, { models: ['gpt-test'] });
      expect(report.models[0]).toMatchObject({ status: 'unhealthy', http_status: 307, error: 'HTTP 307' });
      expect(first.requests).toHaveLength(1);
      expect(elsewhere.requests).toHaveLength(0);
    } finally {
      await service.close();
    }
  });
});

describe('redirects are never followed: an undici dispatcher of the host', () => {
  it('a dispatcher composed with the redirect interceptor still hands the redirect back', async () => {
    first.setHandler((_req, res) => {
      res.writeHead(307, { location: `${elsewhere.baseUrl}/chat/completions` });
      res.end();
    });
    const agent = new Agent();
    const transport = createUndiciTransport({ dispatcher: agent.compose(interceptors.redirect({ maxRedirections: 5 })) });
    try {
      const controller = new AbortController();
      const response = await transport({
        url: `${first.baseUrl}/chat/completions`,
        method: 'POST',
        headers: { authorization: `Bearer ${SECRET}`, 'content-type': 'application/json' },
        body: Buffer.from('{}'),
        signal: controller.signal,
      });
      response.body.resume();
      expect(response.status).toBe(307);
      expect(first.requests).toHaveLength(1);
      expect(elsewhere.requests).toHaveLength(0);
    } finally {
      await agent.close();
    }
  });
});

/** Gzip of `total` zero bytes, made a megabyte at a time: the test holds the bomb's weight, not its payload. */
async function gzipOfZeros(total: number): Promise<Buffer> {
  const gzip = zlib.createGzip({ level: 9 });
  const out: Buffer[] = [];
  gzip.on('data', (chunk: Buffer) => out.push(chunk));
  const done = new Promise((resolve) => gzip.once('end', resolve));
  const zeros = Buffer.alloc(1024 * 1024);
  for (let written = 0; written < total; written += zeros.length) {
    if (!gzip.write(zeros)) await new Promise((resolve) => gzip.once('drain', resolve));
  }
  gzip.end();
  await done;
  return Buffer.concat(out);
}

describe.each(transports)('decompression is bounded: %s', (_name, fetchImpl) => {
  it('maxResponseBytes sets the bound: a 2 MB answer under a 1 MB bound is cut off with 502', async () => {
    const packed = await gzipOfZeros(2 * 1024 * 1024);
    first.setHandler((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': packed.length });
      res.end(packed);
    });
    const { app, router } = buildApp({ providers: [provider(first.baseUrl)], maxResponseBytes: '1mb', ...(fetchImpl ? { fetch: fetchImpl } : {}) });
    const host = await listen(app);
    try {
      const res = await postJson(`${host.url}/llm/v1/chat/completions`, chat);
      expect(res.status).toBe(502);
      expect(res.json?.error.code).toBe('upstream_response_too_large');
    } finally {
      await host.close();
      await router.close();
    }
  });

  it('a compressed answer that decodes past the default maxResponseBytes (64 MB) is cut off with 502 upstream_response_too_large', async () => {
    const packed = await gzipOfZeros(65 * 1024 * 1024);
    first.setHandler((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': packed.length });
      res.end(packed);
    });
    const { app, router } = buildApp({ providers: [provider(first.baseUrl)], ...(fetchImpl ? { fetch: fetchImpl } : {}) });
    const host = await listen(app);
    try {
      const res = await postJson(`${host.url}/llm/v1/chat/completions`, chat);
      expect(res.status).toBe(502);
      expect(res.json).toEqual({ error: { message: expect.any(String), type: 'proxy_error', param: null, code: 'upstream_response_too_large' } });
    } finally {
      await host.close();
      await router.close();
    }
  });
});

interface BombReport {
  answers: { status: number; code: string | null; bytes: number }[];
  bomb_bytes: number;
  rss_mb: { before: number; peak: number; after_gc: number };
  peak_growth_mb: number;
}

/** Runs the bomb in a child process on the built package, so RSS is the proxy's alone. */
function bombRss(transport: string): Promise<BombReport> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', path.join(root, '__tests__/kit/bomb-rss.mjs'), dist, transport, '1'], {
      cwd: root,
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (data: Buffer) => (stdout += data.toString()));
    child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
    child.on('close', (code) => {
      try {
        resolve(JSON.parse(stdout) as BombReport);
      } catch {
        reject(new Error(`bomb-rss printed no report (exit ${code}):\n${stdout}\n${stderr}`));
      }
    });
  });
}

// One child per transport; the child runs real Express 5, so once is enough.
(EXPRESS_MAJOR === 5 ? describe : describe.skip)('a gzip bomb (255 kB that decodes to 256 MB) at the default maxResponseBytes', () => {
  beforeAll(() => ensureDist());

  it.each(['default', 'fetch', 'node-fetch'])('transport %s: 502 upstream_response_too_large, RSS grows by less than 96 MB', async (transport) => {
    const report = await bombRss(transport);
    expect(report.bomb_bytes).toBeLessThan(300 * 1024);
    expect(report.answers).toEqual([{ status: 502, code: 'upstream_response_too_large', bytes: expect.any(Number) }]);
    expect(report.peak_growth_mb).toBeLessThan(96);
  }, 60_000);
});

/** Posts JSON and keeps the answer as bytes (node:http decodes nothing). */
function rawPost(url: string, body: unknown): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject); // a body cut short
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

type Encoder = (bytes: Buffer) => Buffer;
const gzip: Encoder = (b) => zlib.gzipSync(b);
const deflate: Encoder = (b) => zlib.deflateSync(b);
const br: Encoder = (b) => zlib.brotliCompressSync(b);
/** A coding the proxy does not know: bytes no decoder could undo. */
const custom: Encoder = (b) => Buffer.concat([Buffer.from('XC1\0'), Buffer.from(b).reverse()]);
const zstdLike: Encoder = (b) => Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), b]);
const encode = (plain: Buffer, encoders: Encoder[]): Buffer => encoders.reduce<Buffer>((bytes, encoder) => encoder(bytes), plain);

type Expectation = 'decoded' | 'passed through' | 'either';
/** Header as sent, the encoder chain (first applied first), and what every transport must do. */
const ENCODINGS: [string, Encoder[], Expectation][] = [
  ['gzip, gzip', [gzip, gzip], 'decoded'],
  ['br, gzip', [br, gzip], 'decoded'],
  ['deflate, br', [deflate, br], 'decoded'],
  ['GZIP ,X-Gzip', [gzip, gzip], 'decoded'],
  ['zstd', [zstdLike], 'passed through'],
  ['x-custom', [custom], 'passed through'],
  ['gzip, x-custom', [gzip, custom], 'passed through'],
  ['x-custom, gzip', [custom, gzip], 'passed through'],
  ['gzip, zstd', [gzip, zstdLike], 'passed through'],
  // identity changes nothing: decoding it and passing it through give the same bytes.
  ['identity', [], 'either'],
  ['gzip, identity', [gzip], 'either'],
];

describe.each(transports)('content-encodings are decoded every layer or passed through with their header: %s', (_name, fetchImpl) => {
  let host: Awaited<ReturnType<typeof listen>>;
  let router: Awaited<ReturnType<typeof buildApp>>['router'];
  beforeAll(async () => {
    const built = buildApp({ providers: [provider(first.baseUrl)], heartbeatMs: 0, ...(fetchImpl ? { fetch: fetchImpl } : {}) });
    router = built.router;
    host = await listen(built.app);
  });
  afterAll(async () => {
    await host.close();
    await router.close();
  });

  it.each(ENCODINGS)('JSON with content-encoding: %s', async (header, encoders, expectation) => {
    const plain = Buffer.from(JSON.stringify(completion('upstream-gpt')));
    const sent = encode(plain, encoders);
    first.setHandler((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': header, 'content-length': sent.length });
      res.end(sent);
    });
    const res = await rawPost(`${host.url}/llm/v1/chat/completions`, chat);
    expect(res.status).toBe(200);
    const got = res.headers['content-encoding'];
    if (got === undefined) {
      expect(res.body.toString('utf8')).toBe(plain.toString('utf8'));
    } else {
      // Passed through: the header the upstream sent with exactly the bytes it sent.
      expect(got).toBe(header);
      expect(res.body.equals(sent)).toBe(true);
    }
    if (expectation !== 'either') expect(got === undefined ? 'decoded' : 'passed through').toBe(expectation);
    expect(Number(res.headers['content-length'])).toBe(res.body.length);
  });

  it('an event stream in a coding the proxy cannot undo passes through with its header, bytes unchanged and nothing written into it', async () => {
    const sent = custom(Buffer.from(chunkEvent('upstream-gpt', 'Hel') + 'data: [DONE]\n\n'));
    first.setHandler((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'content-encoding': 'x-custom' });
      res.end(sent);
    });
    const res = await rawPost(`${host.url}/llm/v1/chat/completions`, { ...chat, stream: true });
    expect(res.status).toBe(200);
    expect(res.headers['content-encoding']).toBe('x-custom');
    expect(res.body.equals(sent)).toBe(true);
  });

  it.each<[string, Encoder[]]>([
    ['gzip, gzip', [gzip, gzip]],
    ['br, deflate', [br, deflate]],
  ])('an event stream with content-encoding %s arrives decoded, event by event', async (header, encoders) => {
    const events = [chunkEvent('upstream-gpt', 'Hel'), chunkEvent('upstream-gpt', 'lo'), 'data: [DONE]\n\n'];
    const plain = Buffer.from(events.join(''));
    const sent = encode(plain, encoders);
    first.setHandler((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'content-encoding': header });
      res.end(sent);
    });
    const res = await rawPost(`${host.url}/llm/v1/chat/completions`, { ...chat, stream: true });
    expect(res.status).toBe(200);
    expect(res.headers['content-encoding']).toBeUndefined();
    expect(res.body.toString('utf8')).toBe(plain.toString('utf8'));
  });
});

describe('an event stream passed on still encoded is bounded by an idle deadline, not by the wait for its headers', () => {
  it('runs past ttftMs while events keep coming, and arrives whole', async () => {
    const events = Array.from({ length: 6 }, (_, i) => custom(Buffer.from(chunkEvent('upstream-gpt', `t${i}`))));
    first.setHandler((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'content-encoding': 'x-custom' });
      let i = 0;
      const next = (): void => {
        if (i === events.length) return void res.end();
        res.write(events[i++]);
        setTimeout(next, 60);
      };
      next();
    });
    // Six events 60 ms apart: past the 150 ms that bound the wait for the headers.
    const built = buildApp({ providers: [provider(first.baseUrl)], heartbeatMs: 0, timeouts: { ttftMs: 150, streamIdleMs: 5000 } });
    const host = await listen(built.app);
    try {
      const res = await rawPost(`${host.url}/llm/v1/chat/completions`, { ...chat, stream: true });
      expect(res.headers['content-encoding']).toBe('x-custom');
      expect(res.body.equals(Buffer.concat(events))).toBe(true);
      await waitForEntry(built.entries);
      expect(built.entries[0]).toMatchObject({ status: 200, level: 'info' });
      expect(built.entries[0]).not.toHaveProperty('error_kind');
    } finally {
      await host.close();
      await built.router.close();
    }
  });

  it('is cut after streamIdleMs of upstream silence: the upstream aborted, the entry at warn with the status sent and error_kind timeout', async () => {
    first.setHandler((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'content-encoding': 'x-custom' });
      res.write(custom(Buffer.from(chunkEvent('upstream-gpt', 'Hel'))));
      // and nothing more
    });
    const built = buildApp({ providers: [provider(first.baseUrl)], heartbeatMs: 0, retry: { maxAttempts: 1 }, timeouts: { streamIdleMs: 200 } });
    const host = await listen(built.app);
    try {
      const before = first.socketClosed.length;
      const cut = await rawPost(`${host.url}/llm/v1/chat/completions`, { ...chat, stream: true }).then(
        () => 'ended',
        (error: Error) => error.message,
      );
      expect(cut).toMatch(/aborted|socket hang up|ECONNRESET/);
      await first.socketClosed[before];
      await waitForEntry(built.entries);
      expect(built.entries[0]).toMatchObject({ status: 200, level: 'warn', error_kind: 'timeout' });
    } finally {
      await host.close();
      await built.router.close();
    }
  });
});

describe('a large answer the upstream cuts short', () => {
  it('is logged with the status the client got (not 499) and its error kind, and counts against the provider', async () => {
    const piece = Buffer.alloc(64 * 1024, 'x');
    first.setHandler((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(piece.length * 10) });
      // Six pieces (384 KB, past the 256 KB read whole) of the ten announced, then the connection drops.
      for (let i = 0; i < 5; i++) res.write(piece);
      res.write(piece, () => setTimeout(() => res.socket?.destroy(), 20));
    });
    const second = await startUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(completion('upstream-gpt')));
    });
    // The cutting provider is chosen first (weight), until its breaker opens on one failure.
    const built = buildApp({
      providers: [provider(first.baseUrl, { id: 1, key: 'cuts', weight: 100 }), provider(second.baseUrl, { id: 2, key: 'whole', weight: 1 })],
      heartbeatMs: 0,
      retry: { maxAttempts: 1 },
      breaker: { failureThreshold: 1 },
    });
    const host = await listen(built.app);
    try {
      const outcome = await rawPost(`${host.url}/llm/v1/chat/completions`, chat).then(
        () => 'ended',
        (error: Error) => error.message,
      );
      expect(outcome).not.toBe('ended'); // a truncated body, never a complete answer
      await waitForEntry(built.entries);
      expect(built.entries[0]).toMatchObject({ status: 200, level: 'warn', error_kind: 'connection', provider: 'cuts' });
      const next = await postJson(`${host.url}/llm/v1/chat/completions`, chat);
      expect(next.status).toBe(200);
      expect(next.headers['x-llm-proxy-provider']).toBe('whole');
    } finally {
      await host.close();
      await built.router.close();
      await second.close();
    }
  });
});

async function waitForEntry(entries: unknown[]): Promise<void> {
  for (let i = 0; i < 200 && entries.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(entries).toHaveLength(1);
}
