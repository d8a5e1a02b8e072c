/** Provider configs: every bad field throws InvalidOptionError naming it; defaults are applied. */
import type { ProviderConfig } from '../../../lib/registry/index.js';
import { createIndexSource, StaticProviderRegistry } from '../../../lib/registry/provider-index.js';
import { resolveProvider, resolveProviders } from '../../../lib/registry/validate.js';

const good = { id: 1, key: 'openai', baseUrl: 'https://api.example.com/v1/', apiKey: 'sk-1', models: { 'gpt-4o': 'gpt-4o-2024' } };

/** Runs `fn`, expecting an InvalidOptionError for `option` (checked by name and code, not instanceof). */
function expectInvalid(fn: () => unknown, option: string): void {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toMatchObject({ name: 'InvalidOptionError', code: 'invalid_option', option });
  expect((thrown as Error).message).toContain(`\`${option}\``);
}

describe('resolveProvider', () => {
  it('applies defaults and trims the base URL', () => {
    const resolved = resolveProvider(good, 'providers[0]');
    expect(resolved).toMatchObject({ id: 1, key: 'openai', baseUrl: 'https://api.example.com/v1', apiKey: 'sk-1', weight: 1, enabled: true, headers: {} });
    expect([...resolved.models]).toEqual([['gpt-4o', { upstream: 'gpt-4o-2024', healthCheck: undefined }]]);
  });

  it.each([
    ['https://x.openai.azure.com/openai/deployments/d?api-version=2024-10-21', 'https://x.openai.azure.com/openai/deployments/d?api-version=2024-10-21'],
    ['https://x.openai.azure.com/openai/deployments/d//?api-version=2024-10-21&b=/c/', 'https://x.openai.azure.com/openai/deployments/d?api-version=2024-10-21&b=/c/'],
    ['https://api.example.com/v1/?', 'https://api.example.com/v1'],
    ['https://api.example.com/v1///', 'https://api.example.com/v1'],
  ])('keeps the query of %s last, trimming the slashes of its path', (baseUrl, resolved) => {
    expect(resolveProvider({ ...good, baseUrl }, 'p').baseUrl).toBe(resolved);
  });

  it('lower-cases header names and accepts { model, healthCheck } mappings', () => {
    const resolved = resolveProvider({ ...good, headers: { 'X-Org': 'acme' }, models: { e: { model: 'emb', healthCheck: { mode: 'embedding' } } } }, 'p');
    expect(resolved.headers).toEqual({ 'x-org': 'acme' });
    expect(resolved.models.get('e')).toEqual({ upstream: 'emb', healthCheck: { mode: 'embedding' } });
  });

  it.each<[string, unknown, string]>([
    ['not an object', 'openai', 'providers[0]'],
    ['null', null, 'providers[0]'],
    ['an array', [good], 'providers[0]'],
    ['missing id', { ...good, id: undefined }, 'providers[0].id'],
    ['empty id', { ...good, id: '' }, 'providers[0].id'],
    ['NaN id', { ...good, id: Number.NaN }, 'providers[0].id'],
    ['Infinity id', { ...good, id: Infinity }, 'providers[0].id'],
    ['object id', { ...good, id: {} }, 'providers[0].id'],
    ['missing key', { ...good, key: undefined }, 'providers[0].key'],
    ['empty key', { ...good, key: '' }, 'providers[0].key'],
    ['numeric key', { ...good, key: 7 }, 'providers[0].key'],
    ['missing baseUrl', { ...good, baseUrl: undefined }, 'providers[0].baseUrl'],
    ['relative baseUrl', { ...good, baseUrl: '/v1' }, 'providers[0].baseUrl'],
    ['ftp baseUrl', { ...good, baseUrl: 'ftp://example.com/v1' }, 'providers[0].baseUrl'],
    ['URL object baseUrl', { ...good, baseUrl: new URL('https://example.com/v1') }, 'providers[0].baseUrl'],
    ['baseUrl with a fragment', { ...good, baseUrl: 'https://example.com/v1#frag' }, 'providers[0].baseUrl'],
    ['baseUrl with an empty fragment', { ...good, baseUrl: 'https://example.com/v1?api-version=1#' }, 'providers[0].baseUrl'],
    ['numeric apiKey', { ...good, apiKey: 123 }, 'providers[0].apiKey'],
    ['apiKey with a newline', { ...good, apiKey: 'sk-1\r\nx-evil: 1' }, 'providers[0].apiKey'],
    ['missing models', { ...good, models: undefined }, 'providers[0].models'],
    ['models as an array', { ...good, models: ['gpt-4o'] }, 'providers[0].models'],
    ['empty upstream model', { ...good, models: { a: '' } }, 'providers[0].models.a'],
    ['numeric upstream model', { ...good, models: { a: 5 } }, 'providers[0].models.a'],
    ['mapping without model', { ...good, models: { a: { healthCheck: {} } } }, 'providers[0].models.a'],
    ['healthCheck not an object', { ...good, models: { a: { model: 'x', healthCheck: 'yes' } } }, 'providers[0].models.a.healthCheck'],
    ['unknown healthCheck mode', { ...good, models: { a: { model: 'x', healthCheck: { mode: 'image' } } } }, 'providers[0].models.a.healthCheck.mode'],
    ['healthCheck body not an object', { ...good, models: { a: { model: 'x', healthCheck: { body: 'x' } } } }, 'providers[0].models.a.healthCheck.body'],
    ['negative weight', { ...good, weight: -1 }, 'providers[0].weight'],
    ['NaN weight', { ...good, weight: Number.NaN }, 'providers[0].weight'],
    ['Infinity weight', { ...good, weight: Infinity }, 'providers[0].weight'],
    ['string weight', { ...good, weight: '2' }, 'providers[0].weight'],
    ['string enabled', { ...good, enabled: 'yes' }, 'providers[0].enabled'],
    ['headers as an array', { ...good, headers: ['x'] }, 'providers[0].headers'],
    ['header name with a space', { ...good, headers: { 'bad name': 'x' } }, 'providers[0].headers.bad name'],
    ['numeric header value', { ...good, headers: { 'x-n': 1 } }, 'providers[0].headers.x-n'],
    ['header value with CRLF', { ...good, headers: { 'x-a': 'a\r\nb: c' } }, 'providers[0].headers.x-a'],
    ['provider healthCheck not an object', { ...good, healthCheck: 1 }, 'providers[0].healthCheck'],
    ['provider healthCheck body not an object', { ...good, healthCheck: { body: [] } }, 'providers[0].healthCheck'],
    ['unknown type', { ...good, type: 'google' }, 'providers[0].type'],
    ['apis not an array', { ...good, apis: 'chat' }, 'providers[0].apis'],
    ['empty apis', { ...good, apis: [] }, 'providers[0].apis'],
    ['an unknown api', { ...good, apis: ['chat', 'images'] }, 'providers[0].apis'],
  ])('rejects %s', (_name, config, option) => {
    expectInvalid(() => resolveProvider(config, 'providers[0]'), option);
  });

  it('defaults type to openai, and apis by type', () => {
    const openai = resolveProvider(good, 'p');
    expect({ type: openai.type, apis: [...openai.apis] }).toEqual({ type: 'openai', apis: ['chat', 'completions', 'embeddings', 'responses'] });
    const anthropic = resolveProvider({ ...good, type: 'anthropic' }, 'p');
    expect({ type: anthropic.type, apis: [...anthropic.apis] }).toEqual({ type: 'anthropic', apis: ['messages'] });
    expect([...resolveProvider({ ...good, type: 'anthropic', apis: ['messages', 'chat'] }, 'p').apis]).toEqual(['messages', 'chat']);
  });

  it('accepts the messages and responses health modes', () => {
    for (const mode of ['messages', 'responses'] as const) {
      expect(resolveProvider({ ...good, models: { a: { model: 'x', healthCheck: { mode } } } }, 'p').models.get('a')?.healthCheck).toEqual({ mode });
    }
  });

  it('accepts weight 0, enabled false and a missing apiKey', () => {
    expect(resolveProvider({ ...good, weight: 0, enabled: false, apiKey: undefined }, 'p')).toMatchObject({ weight: 0, enabled: false, apiKey: undefined });
  });

  it('never puts the API key in an error message', () => {
    try {
      resolveProvider({ ...good, apiKey: 'sk-SECRET\n' }, 'p');
    } catch (error) {
      expect((error as Error).message).not.toContain('sk-SECRET');
    }
    expect.assertions(1);
  });
});

describe('resolveProviders', () => {
  it('names the entry by its index', () => {
    expectInvalid(() => resolveProviders([good, { ...good, id: 2, key: 'b', weight: -2 }]), 'providers[1].weight');
  });

  it('rejects a duplicate id, comparing ids as strings', () => {
    expectInvalid(() => resolveProviders([good, { ...good, id: '1', key: 'other' }]), 'providers[1].id');
  });

  it('rejects a duplicate key', () => {
    expectInvalid(() => resolveProviders([good, { ...good, id: 2 }]), 'providers[1].key');
  });

  it('rejects something other than an array', () => {
    expectInvalid(() => resolveProviders({} as never), 'providers');
  });

  it('uses the name it is given', () => {
    expectInvalid(() => resolveProviders([{ ...good, key: '' }], 'providers.list()'), 'providers.list()[0].key');
  });
});

describe('createIndexSource and StaticProviderRegistry', () => {
  it('validates an array at once', () => {
    expectInvalid(() => createIndexSource([{ ...good, baseUrl: 'nope' }]), 'providers[0].baseUrl');
  });

  it.each([['a string', 'x'], ['null', null], ['an object without list()', {}], ['list not a function', { list: [] }]])('rejects %s', (_name, value) => {
    expectInvalid(() => createIndexSource(value as never), 'providers');
  });

  it('validates what a registry lists when first asked, naming list() (with no good list yet: provider_registry_unavailable)', async () => {
    const source = createIndexSource({ list: async () => [{ ...good, weight: 'heavy' as never }] });
    await expect(Promise.resolve().then(source)).rejects.toMatchObject({
      name: 'RegistryUnavailableError',
      code: 'provider_registry_unavailable',
      cause: { name: 'InvalidOptionError', option: 'providers.list()[0].weight' },
    });
  });

  it('reuses the index while list() returns the same array, and rebuilds it for a new one', async () => {
    let configs: ProviderConfig[] = [good];
    const source = createIndexSource({ list: () => configs });
    const first = await source();
    expect(await source()).toBe(first);
    configs = [{ ...good, models: { other: 'x' } }];
    const second = await source();
    expect(second).not.toBe(first);
    expect(second.models()).toEqual(['other']);
  });

  it('StaticProviderRegistry validates at construction and lists the configs', () => {
    expectInvalid(() => new StaticProviderRegistry([good, good]), 'providers[1].id');
    expect(new StaticProviderRegistry([good]).list()).toEqual([good]);
  });
});
