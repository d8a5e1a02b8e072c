/**
 * `createIndexSource` over a registry: `list()` is bounded by a timeout, shared while pending, and
 * the last good list serves on when a later list is invalid or `list()` fails. Fake timers only.
 */
import { jest } from '@jest/globals';
import type { ProviderConfig, ProviderRegistry } from '../../../lib/registry/index.js';
import { createIndexSource } from '../../../lib/registry/provider-index.js';

const good = (key = 'a'): ProviderConfig[] => [{ id: 1, key, baseUrl: 'http://127.0.0.1:1/v1', models: { m: 'up-m' } }];
const bad = (): ProviderConfig[] => [{ id: 1, key: 'a', baseUrl: 'not a url', models: { m: 'up-m' } }];

function capture() {
  const entries: { level: string; message: string; meta: Record<string, unknown> }[] = [];
  return { entries, logger: { log: (level: string, message: string, meta: Record<string, unknown>) => entries.push({ level, message, meta }) } };
}

/** A registry whose every list() result the test settles by hand. */
function manualRegistry() {
  const calls: { resolve: (list: unknown) => void; reject: (error: unknown) => void }[] = [];
  const registry: ProviderRegistry = {
    list: () =>
      new Promise((resolve, reject) => {
        calls.push({ resolve: resolve as (list: unknown) => void, reject });
      }),
  };
  return { registry, calls };
}

const outcome = <T>(promise: Promise<T>) => {
  const seen: { value?: T; error?: unknown; settled: boolean } = { settled: false };
  promise.then(
    (value) => Object.assign(seen, { value, settled: true }),
    (error: unknown) => Object.assign(seen, { error, settled: true }),
  );
  return seen;
};

beforeEach(() => {
  jest.useFakeTimers();
});
afterEach(() => {
  jest.useRealTimers();
});

describe('a registry list() that does not settle', () => {
  it('rejects with provider_registry_unavailable (503) once registryTimeoutMs has passed, not before', async () => {
    const { registry, calls } = manualRegistry();
    const { logger, entries } = capture();
    const source = createIndexSource(registry, 'providers', { timeoutMs: 500, logger });
    const seen = outcome(Promise.resolve(source()));
    await jest.advanceTimersByTimeAsync(499);
    expect(seen.settled).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    expect(seen.error).toMatchObject({ name: 'RegistryUnavailableError', code: 'provider_registry_unavailable', status: 503 });
    expect(entries).toEqual([{ level: 'error', message: 'providers.list() did not settle within 500 ms', meta: { error: expect.any(String) } }]);
    expect(calls).toHaveLength(1);
  });

  it('defaults to 10 s', async () => {
    const { registry } = manualRegistry();
    const seen = outcome(Promise.resolve(createIndexSource(registry)()));
    await jest.advanceTimersByTimeAsync(9_999);
    expect(seen.settled).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    expect(seen.error).toMatchObject({ code: 'provider_registry_unavailable' });
  });

  it('is shared by callers while pending, and asked again after it timed out', async () => {
    const { registry, calls } = manualRegistry();
    const source = createIndexSource(registry, 'providers', { timeoutMs: 100 });
    const first = outcome(Promise.resolve(source()));
    const second = outcome(Promise.resolve(source()));
    expect(calls).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(100);
    expect(first.error).toMatchObject({ code: 'provider_registry_unavailable' });
    expect(second.error).toBe(first.error);
    const third = outcome(Promise.resolve(source()));
    expect(calls).toHaveLength(2);
    calls[1].resolve(good());
    await jest.advanceTimersByTimeAsync(0);
    expect(third.value?.candidates('m').map((p) => p.key)).toEqual(['a']);
    // The hung first call answering late still counts as a good list.
    calls[0].resolve(good('late'));
    await jest.advanceTimersByTimeAsync(0);
  });
});

describe('the last good list', () => {
  it('serves on when a later list() is invalid, which is logged at error once per list', async () => {
    const { logger, entries } = capture();
    const invalid = bad();
    let next: unknown = good();
    const source = createIndexSource({ list: async () => next as ProviderConfig[] }, 'providers', { logger });
    const first = await source();
    next = invalid;
    expect(await source()).toBe(first);
    expect(await source()).toBe(first);
    expect(entries).toEqual([
      { level: 'error', message: 'providers.list() returned an invalid provider list; the last good list serves on', meta: { error: expect.stringContaining('providers.list()[0].baseUrl') } },
    ]);
    next = good('b');
    expect((await source()).candidates('m').map((p) => p.key)).toEqual(['b']);
  });

  it('serves on when list() rejects or throws, each logged at error', async () => {
    const { logger, entries } = capture();
    let mode: 'ok' | 'reject' | 'throw' = 'ok';
    const registry = {
      list(): ProviderConfig[] | Promise<ProviderConfig[]> {
        if (mode === 'throw') throw new Error('db down (sync)');
        return mode === 'reject' ? Promise.reject(new Error('db down')) : Promise.resolve(good());
      },
    };
    const source = createIndexSource(registry, 'providers', { logger });
    const first = await source();
    mode = 'reject';
    expect(await source()).toBe(first);
    mode = 'throw';
    expect(await source()).toBe(first);
    expect(entries.map((e) => [e.level, e.meta.error])).toEqual([
      ['error', 'db down'],
      ['error', 'db down (sync)'],
    ]);
  });

  it('serves on when list() returns a thenable whose then() throws, logged at error, and leaves no timer behind', async () => {
    const { logger, entries } = capture();
    let broken = false;
    const registry = {
      list(): ProviderConfig[] | PromiseLike<ProviderConfig[]> {
        if (!broken) return Promise.resolve(good());
        return {
          then() {
            throw new Error('driver bug');
          },
        };
      },
    };
    // A registry typed loosely, as a host's own database layer may hand one over.
    const source = createIndexSource(registry as unknown as ProviderRegistry, 'providers', { logger });
    const first = await source();
    broken = true;
    expect(await source()).toBe(first);
    expect(entries.map((e) => [e.level, e.meta.error])).toEqual([['error', 'driver bug']]);
    expect(jest.getTimerCount()).toBe(0); // the registryTimeoutMs timer was cleared
  });

  it.each([
    ['rejects', () => Promise.reject(new Error('db down'))],
    ['throws', () => {
      throw new Error('db down');
    }],
    ['returns an invalid list', async () => bad()],
    ['returns no list', async () => null],
  ])('with no good list yet, a list() that %s is provider_registry_unavailable', async (_name, list) => {
    const { logger, entries } = capture();
    const source = createIndexSource({ list } as unknown as ProviderRegistry, 'providers', { logger });
    const error = await Promise.resolve()
      .then(() => source())
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'RegistryUnavailableError', code: 'provider_registry_unavailable', status: 503 });
    expect((error as Error).cause).toBeDefined();
    expect(entries.map((e) => e.level)).toEqual(['error']);
  });
});
