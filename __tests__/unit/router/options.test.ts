/** `createLlmProxyRouter` fails fast: a bad option throws at construction, naming the option. */
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import request from 'supertest';
import { DEFAULT_BODY_LIMIT, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUTS } from '../../../lib/defaults.js';
import { createLlmProxyRouter } from '../../../lib/index.js';
import type { LlmProxyOptions } from '../../../lib/index.js';
import { parseByteSize, resolveOptions } from '../../../lib/router/options.js';
import { MemoryStore } from '../../../lib/state/memory-store.js';
import { thrownBy } from '../../kit/thrown.js';

const providers = [{ id: 1, key: 'p', baseUrl: 'http://127.0.0.1:1/v1', models: { m: 'm' } }];
const quiet = { log: () => undefined };

describe('createLlmProxyRouter options', () => {
  it.each<[string, unknown, string]>([
    ['no options at all', undefined, 'options'],
    ['null', null, 'options'],
    ['a string', 'providers', 'options'],
    ['missing providers', {}, 'providers'],
    ['providers as a string', { providers: 'openai' }, 'providers'],
    ['providers as an object without list()', { providers: { get: () => [] } }, 'providers'],
    ['a bad provider', { providers: [{ ...providers[0], baseUrl: 'localhost:8080' }] }, 'providers[0].baseUrl'],
    ['duplicate provider keys', { providers: [providers[0], { ...providers[0], id: 2 }] }, 'providers[1].key'],
    ['fetch not a function', { providers, fetch: 'node-fetch' }, 'fetch'],
    ['logger with neither log() nor info/warn/error', { providers, logger: { info: () => undefined } }, 'logger'],
    ['logRequests as a string', { providers, logRequests: 'yes' }, 'logRequests'],
    ['apiKeys: [1]', { providers, apiKeys: [1] }, 'apiKeys'],
    ['apiKeys with an empty key', { providers, apiKeys: ['ok', ''] }, 'apiKeys'],
    ['apiKeys as a string', { providers, apiKeys: 'sk-1' }, 'apiKeys'],
    ["adminKey: ''", { providers, adminKey: '' }, 'adminKey'],
    ['adminKey as a number', { providers, adminKey: 1234 }, 'adminKey'],
    ['timeouts as a number', { providers, timeouts: 5 }, 'timeouts'],
    ['timeouts.requestMs: -1', { providers, timeouts: { requestMs: -1 } }, 'timeouts.requestMs'],
    ['timeouts.requestMs: 0', { providers, timeouts: { requestMs: 0 } }, 'timeouts.requestMs'],
    ['timeouts.requestMs as a string', { providers, timeouts: { requestMs: '1000' } }, 'timeouts.requestMs'],
    ['timeouts.ttftMs: NaN', { providers, timeouts: { ttftMs: Number.NaN } }, 'timeouts.ttftMs'],
    ['timeouts.streamIdleMs: Infinity', { providers, timeouts: { streamIdleMs: Infinity } }, 'timeouts.streamIdleMs'],
    ['heartbeatMs: -1', { providers, heartbeatMs: -1 }, 'heartbeatMs'],
    ["bodyLimit: 'abc'", { providers, bodyLimit: 'abc' }, 'bodyLimit'],
    ["bodyLimit: '20 parsecs'", { providers, bodyLimit: '20 parsecs' }, 'bodyLimit'],
    ['bodyLimit: 0', { providers, bodyLimit: 0 }, 'bodyLimit'],
    ["bodyLimit: '0'", { providers, bodyLimit: '0' }, 'bodyLimit'],
    ["bodyLimit: '0.5b'", { providers, bodyLimit: '0.5b' }, 'bodyLimit'],
    ['bodyLimit: -5', { providers, bodyLimit: -5 }, 'bodyLimit'],
    ['bodyLimit: 1.5', { providers, bodyLimit: 1.5 }, 'bodyLimit'],
    ["maxResponseBytes: 'lots'", { providers, maxResponseBytes: 'lots' }, 'maxResponseBytes'],
    ['maxResponseBytes: 0', { providers, maxResponseBytes: 0 }, 'maxResponseBytes'],
    ['maxResponseBytes: -1', { providers, maxResponseBytes: -1 }, 'maxResponseBytes'],
    ['registryTimeoutMs: 0', { providers, registryTimeoutMs: 0 }, 'registryTimeoutMs'],
    ["registryTimeoutMs: '10s'", { providers, registryTimeoutMs: '10s' }, 'registryTimeoutMs'],
    ['store as a string', { providers, store: 'redis://localhost' }, 'store'],
    ['store without hit()', { providers, store: { records: () => undefined, tryLock: () => undefined } }, 'store'],
    ['limits as a number', { providers, limits: 100 }, 'limits'],
    ['limits.requestsPerMinute: 0', { providers, limits: { requestsPerMinute: 0 } }, 'limits.requestsPerMinute'],
    ['limits.requestsPerMinute: 1.5', { providers, limits: { requestsPerMinute: 1.5 } }, 'limits.requestsPerMinute'],
    ["limits.tokensPerMinute: '1k'", { providers, limits: { tokensPerMinute: '1k' } }, 'limits.tokensPerMinute'],
    ["limits.key: 'ip'", { providers, limits: { requestsPerMinute: 1, key: 'ip' } }, 'limits.key'],
    ['limits.forKey as an object', { providers, limits: { forKey: { a: { requestsPerMinute: 1 } } } }, 'limits.forKey'],
    ["limits.failClosed: 'yes'", { providers, limits: { requestsPerMinute: 1, failClosed: 'yes' } }, 'limits.failClosed'],
    ['responses as a number', { providers, responses: 5 }, 'responses'],
    ['responses.maxRemembered: 0', { providers, responses: { maxRemembered: 0 } }, 'responses.maxRemembered'],
    ['responses.maxRemembered: 1.5', { providers, responses: { maxRemembered: 1.5 } }, 'responses.maxRemembered'],
    ['responses.rememberMs: 0', { providers, responses: { rememberMs: 0 } }, 'responses.rememberMs'],
    ["responses.rememberMs: '1h'", { providers, responses: { rememberMs: '1h' } }, 'responses.rememberMs'],
  ])('rejects %s', (_name, options, option) => {
    const error = thrownBy(() => createLlmProxyRouter(options as LlmProxyOptions));
    expect(error).toMatchObject({ name: 'InvalidOptionError', code: 'invalid_option', option });
    expect(String(error.message)).toContain(`\`${option}\``);
  });

  it('accepts a minimal config and the documented forms', async () => {
    const routers = [
      createLlmProxyRouter({ providers, logger: quiet }),
      createLlmProxyRouter({ providers: { list: async () => providers }, logger: quiet, apiKeys: (key) => key === 'k', bodyLimit: '1.5mb', timeouts: { requestMs: 1 } }),
      createLlmProxyRouter({ providers, logger: quiet, apiKeys: ['a', 'b'], adminKey: 'admin', heartbeatMs: 0, bodyLimit: 1024, fetch: globalThis.fetch }),
      createLlmProxyRouter({ providers, logger: quiet, store: new MemoryStore(), limits: { requestsPerMinute: 60, tokensPerMinute: 10_000, key: () => 'k', forKey: () => undefined, failClosed: true } }),
    ];
    for (const router of routers) {
      expect(typeof router).toBe('function');
      expect(typeof router.close).toBe('function');
      await router.close();
    }
  });

  it('documents defaults that do not cut off a reasoning model thinking for two minutes', () => {
    expect(DEFAULT_TIMEOUTS.requestMs).toBeGreaterThan(120_000);
    expect(DEFAULT_TIMEOUTS.ttftMs).toBeGreaterThan(120_000);
    expect(DEFAULT_TIMEOUTS.streamIdleMs).toBeGreaterThan(120_000);
    expect(DEFAULT_BODY_LIMIT).toBeGreaterThanOrEqual(10 * 1024 * 1024);
  });

  it('catches app.use(createLlmProxyRouter) without the call, with a message saying how to fix it', async () => {
    const app = express();
    let seen: unknown;
    app.use('/llm', createLlmProxyRouter as unknown as express.RequestHandler);
    app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
      seen = error;
      res.status(500).json({ ok: false });
    });
    await request(app).post('/llm/v1/chat/completions').send({ model: 'm' }).expect(500);
    expect(seen).toMatchObject({ name: 'InvalidOptionError', option: 'options' });
    expect((seen as Error).message).toMatch(/createLlmProxyRouter\(\{ providers \}\)/);
  });
});

describe('resolved options', () => {
  it.each<[number | string | undefined, number]>([
    [undefined, 64 * 1024 * 1024],
    ['1kb', 1024],
    [' 2 MB ', 2 * 1024 * 1024],
    [4096, 4096],
  ])('maxResponseBytes %p resolves to %p bytes', async (maxResponseBytes, bytes) => {
    const config = resolveOptions({ providers, logger: quiet, maxResponseBytes });
    expect(config.maxResponseBytes).toBe(bytes);
    await config.closeTransport();
  });

  it('defaults registryTimeoutMs to 10 s', async () => {
    const config = resolveOptions({ providers, logger: quiet });
    expect(config.registryTimeoutMs).toBe(10_000);
    await config.closeTransport();
  });

  it('defaults responses to 10,000 ids for 24 h, and retry.onStatus to include 529', async () => {
    const config = resolveOptions({ providers, logger: quiet });
    expect(config.responses).toEqual({ maxRemembered: 10_000, rememberMs: 24 * 60 * 60 * 1000 });
    expect(config.retry.onStatus).toEqual([429, 502, 503, 504, 529]);
    await config.closeTransport();
  });

  it('defaults maxResponseBytes to 64 MB', () => {
    expect(DEFAULT_MAX_RESPONSE_BYTES).toBe(64 * 1024 * 1024);
  });
});

describe('parseByteSize', () => {
  it.each<[number | string, number]>([
    [1, 1],
    [2048, 2048],
    ['100', 100],
    ['1b', 1],
    ['1kb', 1024],
    ['20mb', 20 * 1024 * 1024],
    [' 1.5 MB ', 1.5 * 1024 * 1024],
    ['1gb', 1024 ** 3],
  ])('%p is %p bytes', (value, bytes) => {
    expect(parseByteSize(value, 'bodyLimit')).toBe(bytes);
  });
});

describe('store and limits options', () => {
  it('defaults to a memory store of its own (closed with the router) and no limits', async () => {
    const config = resolveOptions({ providers, logger: quiet });
    expect(config.store).toBeInstanceOf(MemoryStore);
    expect(config.store.shared).toBeFalsy();
    expect(config.limits).toBeUndefined();
    await config.closeTransport();
  });

  it('leaves a store the host passed open on close()', async () => {
    const store = new MemoryStore();
    let closed = false;
    store.close = async () => {
      closed = true;
    };
    const router = createLlmProxyRouter({ providers, logger: quiet, store });
    await router.close();
    expect(closed).toBe(false);
  });

  it('reads usage from answers only when a token limit may apply', async () => {
    const resolved = (limits: LlmProxyOptions['limits']) => resolveOptions({ providers, logger: quiet, limits }).limits;
    expect(resolved({ requestsPerMinute: 10 })?.readsTokens).toBe(false);
    expect(resolved({ tokensPerMinute: 10 })?.readsTokens).toBe(true);
    expect(resolved({ forKey: () => ({ tokensPerMinute: 5 }) })?.readsTokens).toBe(true);
    expect(resolved({ requestsPerMinute: 10, tokensPerMinute: 20 })).toMatchObject({ defaults: { requestsPerMinute: 10, tokensPerMinute: 20 }, failClosed: false });
  });
});
