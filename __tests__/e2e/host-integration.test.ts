/**
 * The router in a host as a new user mounts it: `express.json()` before the router (the most
 * common Express setup), and the loggers hosts already have (pino, console, winston, their own).
 */
import { Console } from 'node:console';
import { Writable } from 'node:stream';
import { jest } from '@jest/globals';
import express from 'express';
import pino from 'pino';
import request from 'supertest';
import { createLlmProxyRouter, HealthCheckService, requestLogger } from '../../lib/index.js';
import type { Logger } from '../../lib/index.js';
import { buildApp, provider } from '../kit/app.js';
import { okJson, sleep, useUpstream } from '../kit/upstream.js';
import { waitFor } from '../kit/client.js';

const upstream = useUpstream(okJson);
const chat = (extra: Record<string, unknown> = {}) => ({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }], ...extra });
const parserWarnings = (entries: Record<string, unknown>[]) => entries.filter((e) => e.level === 'warn' && String(e.message).includes('body parser'));

/** A writable that keeps every line written to it. */
function lines(): { stream: Writable; lines: string[] } {
  const out: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      out.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  return { stream, lines: out };
}

describe('a host with express.json() mounted before the router', () => {
  it('proxies the parsed body, serialised with the mapped model', async () => {
    const { app, router } = buildApp({ providers: [provider(upstream.baseUrl)] }, (host) => host.use(express.json()));
    await request(app).post('/llm/v1/chat/completions').send(chat({ temperature: 0.5 })).expect(200);
    expect(upstream.requests[0].body).toBe(JSON.stringify(chat({ model: 'upstream-gpt', temperature: 0.5 })));
    await router.close();
  });

  it('holds the parsed body to bodyLimit, with the proxy’s own JSON 413', async () => {
    const { app, router, entries } = buildApp({ providers: [provider(upstream.baseUrl)], bodyLimit: 1024 }, (host) => host.use(express.json({ limit: '1mb' })));
    const res = await request(app).post('/llm/v1/chat/completions').send(chat({ pad: 'x'.repeat(2000) }));
    expect(res.status).toBe(413);
    expect(res.body).toEqual({ error: { message: 'Request body is larger than the limit of 1024 bytes', type: 'invalid_request_error', param: null, code: 'request_too_large' } });
    expect(upstream.requests).toHaveLength(0);
    await waitFor(() => entries.some((e) => e.status === 413));
    await router.close();
  });

  it('warns once per router, not per request, saying how to mount the parser', async () => {
    const { app, router, entries } = buildApp({ providers: [provider(upstream.baseUrl)] }, (host) => host.use(express.json()));
    const second = createLlmProxyRouter({ providers: [provider(upstream.baseUrl)], logger: { log: (level, message) => void entries.push({ level, message, router: 2 }) } });
    app.use('/other', second);
    for (let i = 0; i < 3; i++) await request(app).post('/llm/v1/chat/completions').send(chat()).expect(200);
    await request(app).post('/other/v1/chat/completions').send(chat()).expect(200);
    await request(app).post('/other/v1/chat/completions').send(chat()).expect(200);
    const warnings = parserWarnings(entries);
    expect(warnings).toHaveLength(2);
    expect(warnings.filter((w) => w.router === 2)).toHaveLength(1);
    expect(String(warnings[0].message)).toMatch(/express\.json\(\)/);
    expect(String(warnings[0].message)).toMatch(/after the router/);
    expect(String(warnings[0].message)).toMatch(/app\.use\("\/api", express\.json\(\)\)/);
    await router.close();
    await second.close();
  });

  it('does not warn when nothing parsed the body first', async () => {
    const { app, router, entries } = buildApp({ providers: [provider(upstream.baseUrl)] });
    await request(app).post('/llm/v1/chat/completions').send(chat()).expect(200);
    await sleep(5);
    expect(parserWarnings(entries)).toEqual([]);
    await router.close();
  });

  it('serialises the body once, however many attempts fail over', async () => {
    let serialised = 0;
    const failing = { ...provider(upstream.baseUrl), id: 2, key: 'failing', baseUrl: `${upstream.baseUrl}/failing` };
    upstream.setHandler((req, res, recorded) => {
      if (req.url?.startsWith('/v1/failing/')) {
        res.writeHead(503, { 'content-type': 'application/json' });
        res.end('{"error":{"message":"busy"}}');
      } else okJson(req, res, recorded);
    });
    const { app, router } = buildApp({ providers: [failing, { ...provider(upstream.baseUrl), weight: 0.001 }], retry: { maxAttempts: 2 } }, (host) => {
      host.use(express.json());
      host.use((req, _res, next) => {
        // Counts the serialisations of this request's body.
        (req.body as Record<string, unknown>).metadata = { toJSON: () => (++serialised, { tag: 'x' }) };
        next();
      });
    });
    const res = await request(app).post('/llm/v1/chat/completions').send(chat()).expect(200);
    expect(res.headers['x-llm-proxy-attempts']).toBe('2');
    expect(upstream.requests.map((r) => r.url)).toEqual(['/v1/failing/chat/completions', '/v1/chat/completions']);
    expect(upstream.requests[0].body).toBe(upstream.requests[1].body);
    expect(upstream.requests[0].json).toMatchObject({ model: 'upstream-gpt', metadata: { tag: 'x' } });
    expect(serialised).toBe(1);
    await router.close();
  });

  it('what the README warns about: express.json() answers a body over its 100 kB itself, in HTML, before the router', async () => {
    const { app, router, entries } = buildApp({ providers: [provider(upstream.baseUrl)] }, (host) => host.use(express.json()));
    const res = await request(app).post('/llm/v1/chat/completions').send(chat({ pad: 'x'.repeat(150_000) }));
    expect(res.status).toBe(413);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    await sleep(5);
    expect(entries.filter((e) => e.status !== undefined)).toEqual([]); // the router never saw it, so no log line
    await router.close();
  });

  it('mounted after the router, express.json() costs nothing: the bytes go through as sent, no warning', async () => {
    const { app, router, entries } = buildApp({ providers: [provider(upstream.baseUrl, { models: { 'gpt-test': 'gpt-test' } })] });
    app.use(express.json());
    const text = '{ "model": "gpt-test", "n": 1.0, "messages": [] }';
    await request(app).post('/llm/v1/chat/completions').set('content-type', 'application/json').send(text).expect(200);
    expect(upstream.requests[0].body).toBe(text);
    expect(parserWarnings(entries)).toEqual([]);
    await router.close();
  });
});

describe('loggers', () => {
  it('the default logger: close() writes the entries it still holds back', async () => {
    const written: string[] = [];
    const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    // Frozen clocks: the second entry comes "0 ms" after the first was written, so it waits for a
    // batch timer that never fires; only close() can write it.
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask', 'performance'] });
    try {
      const router = createLlmProxyRouter({ providers: [provider(upstream.baseUrl)] }); // no logger: the default
      const app = express().use('/llm', router);
      await request(app).post('/llm/v1/chat/completions').send(chat()).expect(200);
      await request(app).post('/llm/v1/chat/completions').send(chat()).expect(200);
      const entries = () => written.join('').split('\n').filter((line) => line.includes('/llm/v1/chat/completions'));
      await new Promise((resolve) => setImmediate(resolve));
      expect(entries()).toHaveLength(1);
      await router.close();
      expect(entries()).toHaveLength(2);
      expect(JSON.parse(entries()[1])).toMatchObject({ level: 'info', status: 200, path: '/llm/v1/chat/completions' });
    } finally {
      jest.useRealTimers();
      write.mockRestore();
    }
  });

  it('takes a pino logger: entries are pino JSON lines with the request fields, at pino levels', async () => {
    const out = lines();
    const logger = pino({ base: undefined }, out.stream);
    const router = createLlmProxyRouter({ providers: [provider(upstream.baseUrl)], logger, apiKeys: [] });
    const app = express().use('/llm', router);
    await request(app).post('/llm/v1/chat/completions').set('authorization', 'Bearer k').send(chat()).expect(401);
    await waitFor(() => out.lines.length >= 2);
    const [warning, entry] = out.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(warning).toMatchObject({ level: 40, option: 'apiKeys', msg: expect.stringContaining('option `apiKeys` is an empty list') });
    expect(entry).toMatchObject({ level: 40, msg: 'POST /llm/v1/chat/completions 401', method: 'POST', status: 401, request_id: expect.any(String) });
    await router.close();
  });

  it('takes a pino child logger, and pino in requestLogger and the health service', async () => {
    const out = lines();
    const child = pino(out.stream).child({ component: 'llm' });
    const app = express();
    app.use(requestLogger({ logger: child }));
    app.get('/x', (_req, res) => void res.send('x'));
    await request(app).get('/x').expect(200);
    await waitFor(() => out.lines.length === 1);
    expect(JSON.parse(out.lines[0])).toMatchObject({ level: 30, component: 'llm', msg: 'GET /x 200', status: 200 });

    const health = new HealthCheckService({ providers: [provider(upstream.baseUrl)], logger: child });
    await health.checkProvider(1);
    await health.close();
    expect(JSON.parse(out.lines[1])).toMatchObject({ level: 30, component: 'llm', msg: 'health check mock: healthy' });
  });

  it('takes console (a Console): info to stdout, warn to stderr, as (message, meta)', async () => {
    const stdout = lines();
    const stderr = lines();
    const logger = new Console({ stdout: stdout.stream, stderr: stderr.stream });
    const { app, router } = buildApp({ providers: [provider(upstream.baseUrl)], logger });
    await request(app).post('/llm/v1/chat/completions').send(chat()).expect(200);
    await request(app).post('/llm/v1/chat/completions').send({ model: 'nope' }).expect(404);
    await waitFor(() => stdout.lines.length > 0 && stderr.lines.length > 0);
    expect(stdout.lines[0]).toMatch(/^POST \/llm\/v1\/chat\/completions 200 \{/);
    expect(stdout.lines.join('\n')).toContain("provider: 'mock'");
    expect(stderr.lines[0]).toMatch(/^POST \/llm\/v1\/chat\/completions 404 \{/);
    await router.close();
  });

  it('takes any object with info/warn/error, called (message, meta)', async () => {
    const calls: unknown[][] = [];
    const logger: Logger = { info: (...args: unknown[]) => calls.push(['info', ...args]), warn: (...args: unknown[]) => calls.push(['warn', ...args]), error: (...args: unknown[]) => calls.push(['error', ...args]) };
    const { app, router } = buildApp({ providers: [provider(upstream.baseUrl)], logger });
    await request(app).post('/llm/v1/chat/completions').send(chat()).expect(200);
    await waitFor(() => calls.length === 1);
    expect(calls[0]).toEqual(['info', 'POST /llm/v1/chat/completions 200', expect.objectContaining({ status: 200, provider: 'mock' })]);
    await router.close();
  });

  it('still takes a winston logger (and anything with log(level, message, meta)) as it is', async () => {
    const { app, router, entries } = buildApp({ providers: [provider(upstream.baseUrl)] });
    await request(app).post('/llm/v1/chat/completions').send(chat()).expect(200);
    await waitFor(() => entries.length === 1);
    expect(entries[0]).toMatchObject({ level: 'info', message: 'POST /llm/v1/chat/completions 200', status: 200 });
    await router.close();
  });

  it.each<[string, unknown]>([
    ['a string', 'pino'],
    ['info alone', { info: () => undefined }],
    ['a function', () => undefined],
  ])('refuses %s, naming the option', (_name, logger) => {
    expect(() => createLlmProxyRouter({ providers: [provider(upstream.baseUrl)], logger: logger as Logger })).toThrow(/option `logger` must be a winston or pino logger, console, or an object with info\/warn\/error/);
    expect(() => requestLogger({ logger: logger as Logger })).toThrow(/`logger`/);
    expect(() => new HealthCheckService({ providers: [], logger: logger as Logger })).toThrow(/`logger`/);
  });
});
