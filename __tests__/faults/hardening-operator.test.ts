/**
 * Operator mistakes an adversarial review aimed at: a baseUrl with a query string (Azure's
 * api-version), a registry that hangs or returns a bad list, and keys read from a file with their
 * trailing newline.
 */
import { jest } from '@jest/globals';
import { buildApp, captureLogger, listen, provider } from '../kit/app.js';
import { postJson } from '../kit/client.js';
import { useUpstream } from '../kit/upstream.js';
import { createHealthRouter, createLlmProxyRouter, HealthCheckService } from '../../lib/index.js';
import type { ProviderConfig } from '../../lib/index.js';

const upstream = useUpstream();
const AZURE_PATH = '/openai/deployments/d';
const API_VERSION = 'api-version=2024-10-21';

describe('a baseUrl with a query string', () => {
  it('the health service probes <base path>/chat/completions?<query>', async () => {
    const service = new HealthCheckService({ providers: [provider(`${upstream.origin}${AZURE_PATH}/?${API_VERSION}`)] });
    try {
      const report = await service.checkProvider(1, { models: ['gpt-test'] });
      expect(report.models[0]).toMatchObject({ status: 'healthy', http_status: 200 });
      expect(upstream.requests.map((r) => r.url)).toEqual([`${AZURE_PATH}/chat/completions?${API_VERSION}`]);
    } finally {
      await service.close();
    }
  });

  it('the admin health route of the router probes the same URL', async () => {
    const { app, router } = buildApp({ providers: [provider(`${upstream.origin}${AZURE_PATH}?${API_VERSION}`)], adminKey: 'admin-key' });
    const host = await listen(app);
    try {
      const res = await postJson(`${host.url}/llm/admin/v1/providers/1/health`, { models: ['embed-test'] }, { authorization: 'Bearer admin-key' });
      expect(res.status).toBe(200);
      expect(upstream.requests.map((r) => r.url)).toEqual([`${AZURE_PATH}/chat/completions?${API_VERSION}`]);
    } finally {
      await host.close();
      await router.close();
    }
  });

  it('a baseUrl with a fragment is refused at construction, naming the provider baseUrl', () => {
    const providers = [provider(`${upstream.origin}${AZURE_PATH}?${API_VERSION}#deployments`)];
    for (const construct of [() => createLlmProxyRouter({ providers }), () => new HealthCheckService({ providers })]) {
      expect(construct).toThrow(expect.objectContaining({ name: 'InvalidOptionError', option: 'providers[0].baseUrl' }));
    }
  });
});

const chat = { model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] };

describe('the registry is bounded and keeps its last good list', () => {
  it('a list() returning an invalid list is logged at error and the last good list serves on', async () => {
    let rows: ProviderConfig[] = [provider(upstream.baseUrl)];
    const { app, router, entries } = buildApp({ providers: { list: async () => rows } });
    const host = await listen(app);
    try {
      expect((await postJson(`${host.url}/llm/v1/chat/completions`, chat)).status).toBe(200);
      rows = [provider('not a url')]; // a bad edit in the host's store
      const res = await postJson(`${host.url}/llm/v1/chat/completions`, chat);
      expect(res.status).toBe(200);
      expect(res.json?.model).toBe('upstream-gpt');
      expect(upstream.requests).toHaveLength(2);
      expect(entries).toContainEqual(
        expect.objectContaining({ level: 'error', message: 'providers.list() returned an invalid provider list; the last good list serves on', error: expect.stringContaining('providers.list()[0].baseUrl') }),
      );
    } finally {
      await host.close();
      await router.close();
    }
  });

  it('a list() that rejects serves the last good list too', async () => {
    let fail = false;
    const { app, router, entries } = buildApp({ providers: { list: async () => (fail ? Promise.reject(new Error('db down')) : [provider(upstream.baseUrl)]) } });
    const host = await listen(app);
    try {
      expect((await postJson(`${host.url}/llm/v1/chat/completions`, chat)).status).toBe(200);
      fail = true;
      expect((await postJson(`${host.url}/llm/v1/chat/completions`, chat)).status).toBe(200);
      expect(entries).toContainEqual(expect.objectContaining({ level: 'error', error: 'db down' }));
    } finally {
      await host.close();
      await router.close();
    }
  });

  it('a list() that never settles gets an OpenAI-shaped 5xx after registryTimeoutMs instead of a hung request', async () => {
    const { app, router, entries } = buildApp({ providers: { list: () => new Promise<ProviderConfig[]>(() => {}) }, registryTimeoutMs: 50 });
    const host = await listen(app);
    try {
      const res = await postJson(`${host.url}/llm/v1/chat/completions`, chat);
      expect(res.status).toBe(503);
      expect(res.json).toEqual({ error: { message: expect.any(String), type: 'server_error', param: null, code: 'provider_registry_unavailable' } });
      expect(entries).toContainEqual(expect.objectContaining({ level: 'error', message: 'providers.list() did not settle within 50 ms' }));
      expect(upstream.requests).toHaveLength(0);
    } finally {
      await host.close();
      await router.close();
    }
  });

  it('background health rounds survive a hung list(): each round ends at registryTimeoutMs, is logged, and the next interval runs', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    const { logger, entries } = captureLogger();
    let calls = 0;
    const router = createLlmProxyRouter({
      providers: {
        list: () => {
          calls += 1;
          return new Promise<ProviderConfig[]>(() => {});
        },
      },
      logger,
      health: { intervalMs: 1000 },
      registryTimeoutMs: 300,
    });
    try {
      expect(calls).toBe(1); // the first round starts at once
      await jest.advanceTimersByTimeAsync(300);
      expect(entries).toContainEqual(expect.objectContaining({ level: 'error', message: 'background health check failed', error: expect.stringContaining('did not settle within 300 ms') }));
      await jest.advanceTimersByTimeAsync(700);
      expect(calls).toBe(2); // the next round ran
      await jest.advanceTimersByTimeAsync(1000);
      expect(calls).toBe(3);
    } finally {
      await router.close();
      jest.useRealTimers();
    }
  });

  it('the standalone health service bounds list() too (registryTimeoutMs)', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    const service = new HealthCheckService({ providers: { list: () => new Promise<ProviderConfig[]>(() => {}) }, registryTimeoutMs: 200 });
    try {
      const checked = service.checkProviders().catch((e: unknown) => e);
      await jest.advanceTimersByTimeAsync(200);
      expect(await checked).toMatchObject({ code: 'provider_registry_unavailable', status: 503 });
    } finally {
      await service.close();
      jest.useRealTimers();
    }
  });
});

describe('keys with whitespace are refused at construction, naming the option', () => {
  const providers = [provider('http://127.0.0.1:1/v1')];
  const service = { checkProvider: async () => ({}) as never, checkProviders: async () => ({}) as never };

  it.each<[string, () => unknown, string]>([
    ['an apiKeys entry with a trailing newline', () => createLlmProxyRouter({ providers, apiKeys: ['sk-a', 'sk-b', 'sk-c\n'] }), 'apiKeys[2]'],
    ['an apiKeys entry with CRLF', () => createLlmProxyRouter({ providers, apiKeys: ['sk-a\r\n'] }), 'apiKeys[0]'],
    ['an apiKeys entry with a leading space', () => createLlmProxyRouter({ providers, apiKeys: ['sk-a', ' sk-b'] }), 'apiKeys[1]'],
    ['an apiKeys entry with a space inside', () => createLlmProxyRouter({ providers, apiKeys: ['sk a'] }), 'apiKeys[0]'],
    ['an adminKey with a trailing newline', () => createLlmProxyRouter({ providers, adminKey: 'admin-key\n' }), 'adminKey'],
    ['an adminKey with a tab', () => createLlmProxyRouter({ providers, adminKey: '\tadmin-key' }), 'adminKey'],
    ['an adminKey with a no-break space', () => createLlmProxyRouter({ providers, adminKey: 'admin-key\u00a0' }), 'adminKey'],
    ["createHealthRouter's adminKey with a trailing newline", () => createHealthRouter({ service, adminKey: 'admin-key\n' }), 'adminKey'],
  ])('%s', (_name, construct, option) => {
    let thrown: unknown;
    try {
      construct();
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({ name: 'InvalidOptionError', code: 'invalid_option', option });
    expect((thrown as Error).message).toContain(`\`${option}\``);
    expect((thrown as Error).message).toMatch(/trim it/);
  });

  it('keys without whitespace are still accepted', async () => {
    const router = createLlmProxyRouter({ providers, apiKeys: ['sk-a', 'sk-b'], adminKey: 'admin-key', logger: { log: () => undefined } });
    expect(typeof createHealthRouter({ service, adminKey: 'admin-key' })).toBe('function');
    await router.close();
  });
});
