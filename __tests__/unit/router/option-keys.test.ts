/** Configuration mistakes caught at construction: unknown keys throw (with a "did you mean"), likely mistakes warn once. */
import { createLlmProxyRouter } from '../../../lib/index.js';
import type { LlmProxyOptions } from '../../../lib/index.js';
import { configWarnings } from '../../../lib/router/config-warnings.js';
import { OPTION_KEYS } from '../../../lib/router/option-types.js';
import { checkKeys, nearestKey } from '../../../lib/util/option-keys.js';
import { thrownBy } from '../../kit/thrown.js';

const provider = { id: 1, key: 'p', baseUrl: 'http://127.0.0.1:1/v1', models: { m: 'm' } };
const quiet = { log: () => undefined };

function capture() {
  const entries: { level: string; message: string; meta: Record<string, unknown> }[] = [];
  return { entries, logger: { log: (level: string, message: string, meta: Record<string, unknown>) => void entries.push({ level, message, meta }) } };
}

describe('unknown option keys', () => {
  it.each<[string, Record<string, unknown>, string, string | undefined]>([
    ['the openai SDK spelling baseURL', { providers: [{ ...provider, baseURL: provider.baseUrl, baseUrl: undefined }] }, 'providers[0].baseURL', 'providers[0].baseUrl'],
    ['baseURL in the second provider', { providers: [provider, { ...provider, id: 2, key: 'q', baseURL: 'x' }] }, 'providers[1].baseURL', 'providers[1].baseUrl'],
    ['maxRetries (the openai SDK option)', { providers: [provider], maxRetries: 3 }, 'maxRetries', 'retry.maxAttempts'],
    ['timeout (the openai SDK option)', { providers: [provider], timeout: 1000 }, 'timeout', 'timeouts.requestMs'],
    ['retry.attempts', { providers: [provider], retry: { attempts: 3 } }, 'retry.attempts', 'retry.maxAttempts'],
    ['retry.maxAttempt', { providers: [provider], retry: { maxAttempt: 3 } }, 'retry.maxAttempt', 'retry.maxAttempts'],
    ['timeouts.ttft', { providers: [provider], timeouts: { ttft: 1000 } }, 'timeouts.ttft', 'timeouts.ttftMs'],
    ['timeouts.requestMS', { providers: [provider], timeouts: { requestMS: 1000 } }, 'timeouts.requestMS', 'timeouts.requestMs'],
    ['breaker.threshold', { providers: [provider], breaker: { threshold: 2 } }, 'breaker.threshold', 'breaker.failureThreshold'],
    ['health.interval', { providers: [provider], health: { interval: 1000 } }, 'health.interval', 'health.intervalMs'],
    ['apiKey at the top level', { providers: [provider], apiKey: 'sk' }, 'apiKey', 'apiKeys'],
    ['baseUrl at the top level', { providers: [provider], baseUrl: 'http://x/v1' }, 'baseUrl', 'providers[i].baseUrl'],
    ['a provider api_key', { providers: [{ ...provider, api_key: 'sk' }] }, 'providers[0].api_key', 'providers[i].apiKey'],
    ['a typo in a model mapping', { providers: [{ ...provider, models: { m: { model: 'm', healtCheck: {} } } }] }, 'providers[0].models.m.healtCheck', 'providers[0].models.m.healthCheck'],
    ['a provider healthCheck typo', { providers: [{ ...provider, healthCheck: { bdy: {} } }] }, 'providers[0].healthCheck.bdy', 'providers[0].healthCheck.body'],
    ['something unrelated', { providers: [provider], frobnicate: true }, 'frobnicate', undefined],
    ['something unrelated in retry', { providers: [provider], retry: { zzz: 1 } }, 'retry.zzz', undefined],
  ])('throws for %s, naming the path', (_name, options, option, hint) => {
    const error = thrownBy(() => createLlmProxyRouter({ logger: quiet, ...options } as unknown as LlmProxyOptions));
    expect(error).toMatchObject({ name: 'InvalidOptionError', option });
    expect(error.message).toContain(`\`${option}\` is not an option`);
    if (hint === undefined) expect(error.message).not.toContain('did you mean');
    else expect(error.message).toContain(`did you mean \`${hint}\`?`);
  });

  it('lists the known keys of a nested option when nothing is close', () => {
    expect(thrownBy(() => createLlmProxyRouter({ providers: [provider], logger: quiet, retry: { zzz: 1 } } as never)).message).toContain('maxAttempts, onStatus, sameProvider, baseDelayMs, maxDelayMs');
  });

  it('accepts every documented key, and the keys of options still being merged', async () => {
    const router = createLlmProxyRouter({
      providers: [{ ...provider, apiKey: undefined, weight: 1, enabled: true, headers: {}, healthCheck: { body: {} }, models: { m: { model: 'm', healthCheck: { mode: 'chat', body: {} } } } }],
      logger: quiet,
      logRequests: true,
      timeouts: { requestMs: 1000, ttftMs: 1000, streamIdleMs: 1000, streamMaxMs: 1000 },
      retry: { maxAttempts: 2, onStatus: [503], sameProvider: false, baseDelayMs: 1, maxDelayMs: 1 },
      breaker: { failureThreshold: 1, cooldownMs: 1, maxCooldownMs: 1 },
      health: { timeoutMs: 1, maxConcurrent: 1, staleMs: 1 },
      heartbeatMs: 0,
      bodyLimit: '1mb',
      maxResponseBytes: '1mb',
      registryTimeoutMs: 1,
    });
    await router.close();
    for (const coming of ['responses', 'store', 'limits', 'metrics', 'tracing', 'hooks', 'logFields', 'usage']) {
      expect(OPTION_KEYS).toHaveProperty(coming);
    }
    expect(() => checkKeys({ limits: { requestsPerMinute: 1, tokensPerMinute: 1, key: 1, forKey: 1, failClosed: 1 }, usage: { includeInStreams: true } }, OPTION_KEYS)).not.toThrow();
    expect(() => checkKeys({ providers: [{ ...provider, type: 'anthropic', apis: ['messages'] }] }, OPTION_KEYS)).not.toThrow();
  });

  it("does not walk a host's own objects (a registry, a transport) or values that are not objects", () => {
    class Registry {
      whatever = 1;
      list() {
        return [provider];
      }
    }
    expect(() => checkKeys({ providers: new Registry(), store: { anything: 1 }, retry: 5 }, OPTION_KEYS)).not.toThrow();
  });

  it('runs before the other checks, so a typo is reported as a typo', () => {
    // Without the key check this is "providers[0].baseUrl must be an absolute http(s) URL".
    expect(thrownBy(() => createLlmProxyRouter({ providers: [{ id: 1, key: 'p', baseURL: 'http://x/v1', models: {} }] } as never)).option).toBe('providers[0].baseURL');
  });
});

describe('nearestKey', () => {
  it.each<[string, string | undefined]>([
    ['baseURL', 'baseUrl'],
    ['BASEURL', 'baseUrl'],
    ['attempts', 'maxAttempts'],
    ['maxAtempts', 'maxAttempts'],
    ['id', undefined],
    ['xyz', undefined],
  ])('%s → %s', (key, expected) => {
    expect(nearestKey(key, ['baseUrl', 'maxAttempts', 'models', 'key'])).toBe(expected);
  });
});

describe('likely mistakes warn once, at construction', () => {
  const warningsOf = (options: Partial<LlmProxyOptions>) => configWarnings({ providers: [provider], ...options } as LlmProxyOptions).map((w) => [w.option, w.message]);

  it.each<[string, Partial<LlmProxyOptions>, string, RegExp]>([
    ['empty providers', { providers: [] }, 'providers', /is empty: every proxy request will be answered 404 model_not_found/],
    ['a provider with no models', { providers: [{ ...provider, models: {} }] }, 'providers[0].models', /is empty: provider "p" serves no model/],
    ['apiKeys: []', { apiKeys: [] }, 'apiKeys', /every request to the proxy routes will be refused with 401/],
    ['a baseUrl ending in /chat/completions', { providers: [{ ...provider, baseUrl: 'https://api.example.com/v1/chat/completions' }] }, 'providers[0].baseUrl', /ends in \/chat\/completions.*did you mean https:\/\/api\.example\.com\/v1\?/],
    ['a baseUrl ending in /embeddings/', { providers: [{ ...provider, baseUrl: 'https://api.example.com/v1/embeddings/' }] }, 'providers[0].baseUrl', /ends in \/embeddings/],
    ['a baseUrl ending in /completions', { providers: [{ ...provider, baseUrl: 'https://api.example.com/v1/completions?x=1' }] }, 'providers[0].baseUrl', /ends in \/completions,/],
    ['a baseUrl with no path', { providers: [{ ...provider, baseUrl: 'https://api.openai.com' }] }, 'providers[0].baseUrl', /has no path.*https:\/\/api\.openai\.com\/v1/],
    ['a baseUrl with only a slash', { providers: [{ ...provider, baseUrl: 'https://api.openai.com/' }] }, 'providers[0].baseUrl', /has no path/],
    ['an anthropic baseUrl with no path (the Anthropic SDK form)', { providers: [{ ...provider, type: 'anthropic', baseUrl: 'https://api.anthropic.com' }] }, 'providers[0].baseUrl', /has no path; Anthropic's API needs its version path, e.g\. https:\/\/api\.anthropic\.com\/v1/],
    ['an anthropic baseUrl ending in /messages', { providers: [{ ...provider, type: 'anthropic', baseUrl: 'https://api.anthropic.com/v1/messages' }] }, 'providers[0].baseUrl', /ends in \/messages.*did you mean https:\/\/api\.anthropic\.com\/v1\?/],
  ])('%s', (_name, options, option, message) => {
    const warnings = warningsOf(options);
    expect(warnings).toHaveLength(1);
    expect(warnings[0][0]).toBe(option);
    expect(warnings[0][1]).toMatch(message);
  });

  it('says nothing about a good config, a base URL with a query, or a registry', () => {
    expect(warningsOf({})).toEqual([]);
    expect(warningsOf({ providers: [{ ...provider, baseUrl: 'https://x.openai.azure.com/openai/deployments/gpt?api-version=1' }], apiKeys: ['k'] })).toEqual([]);
    expect(warningsOf({ providers: { list: () => [] } })).toEqual([]);
  });

  it('logs each through the host logger at warn when the router is made, and never again', async () => {
    const { entries, logger } = capture();
    const router = createLlmProxyRouter({ providers: [{ ...provider, models: {} }, { ...provider, id: 2, key: 'q', baseUrl: 'https://api.openai.com' }], apiKeys: [], logger });
    expect(entries.map((e) => [e.level, e.meta.option])).toEqual([
      ['warn', 'providers[0].models'],
      ['warn', 'providers[1].baseUrl'],
      ['warn', 'apiKeys'],
    ]);
    expect(entries[0].message).toBe('express-llm-proxy: option `providers[0].models` is empty: provider "p" serves no model');
    await router.close();
    expect(entries).toHaveLength(3);
  });
});
