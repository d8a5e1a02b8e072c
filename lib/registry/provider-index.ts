/** Lookups derived from a list of provider configs: by id, and by client-facing model. */
import type { ProviderApi, ProviderConfig, ProviderRegistry, ResolvedProvider } from './types.js';
import { resolveProviders } from './validate.js';
import { DEFAULT_REGISTRY_TIMEOUT_MS } from '../defaults.js';
import { InvalidOptionError, RegistryUnavailableError } from '../errors/errors.js';
import type { LogSink } from '../logging/request-logger.js';

function add(map: Map<string, ResolvedProvider[]>, model: string, provider: ResolvedProvider): void {
  const list = map.get(model);
  if (list) {
    list.push(provider);
  } else {
    map.set(model, [provider]);
  }
}

export class ProviderIndex {
  readonly providers: readonly ResolvedProvider[];
  readonly #byId = new Map<string, ResolvedProvider>();
  readonly #byKey = new Map<string, ResolvedProvider>();
  readonly #byModel = new Map<string, ResolvedProvider[]>();
  /** Per API, per model: built once, so a request's lookup allocates nothing. */
  readonly #byApi = new Map<ProviderApi, Map<string, ResolvedProvider[]>>();

  constructor(providers: readonly ResolvedProvider[]) {
    this.providers = providers;
    for (const provider of providers) {
      this.#byId.set(String(provider.id), provider);
      this.#byKey.set(provider.key, provider);
      if (!provider.enabled || provider.weight <= 0) {
        continue;
      }
      for (const model of provider.models.keys()) {
        add(this.#byModel, model, provider);
        for (const api of provider.apis) {
          let models = this.#byApi.get(api);
          if (!models) this.#byApi.set(api, (models = new Map()));
          add(models, model, provider);
        }
      }
    }
  }

  byKey(key: string): ResolvedProvider | undefined {
    return this.#byKey.get(key);
  }

  /** Enabled providers with weight > 0 that serve `api` and map `model`, in config order. */
  servedBy(api: ProviderApi, model: string): readonly ResolvedProvider[] {
    return this.#byApi.get(api)?.get(model) ?? [];
  }

  /** Enabled providers that serve `api`, whatever their weight and models. */
  serving(api: ProviderApi): ResolvedProvider[] {
    return this.providers.filter((provider) => provider.enabled && provider.apis.has(api));
  }

  /** Ids compare as strings, since they usually arrive from a URL. */
  byId(id: string | number): ResolvedProvider | undefined {
    return this.#byId.get(String(id));
  }

  /** Enabled providers with weight > 0 that map `model`, in config order, whatever APIs they serve. */
  candidates(model: string): readonly ResolvedProvider[] {
    return this.#byModel.get(model) ?? [];
  }

  /** Every client-facing model served by an enabled provider with weight > 0, each once. */
  models(): string[] {
    return [...this.#byModel.keys()];
  }
}

/** The in-memory registry: a fixed, validated list. */
export class StaticProviderRegistry implements ProviderRegistry {
  readonly #configs: readonly ProviderConfig[];

  constructor(configs: readonly ProviderConfig[]) {
    resolveProviders(configs);
    this.#configs = Object.freeze([...configs]);
  }

  list(): readonly ProviderConfig[] {
    return this.#configs;
  }
}

export interface IndexSourceOptions {
  /** How long a registry's `list()` may take before the source rejects. Default 10000 ms. */
  timeoutMs?: number;
  /** Where a registry's invalid list or failure is reported (at `error`); none by default. */
  logger?: LogSink;
}

const isInvalidOption = (error: unknown): boolean => (error as { code?: unknown } | null)?.code === 'invalid_option';
const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * Turns `providers` (an array or a registry) into a function returning the current index.
 * An array is validated at once. A registry's `list()` result is validated when first seen and
 * its index reused for as long as `list()` returns the same array; callers that come while a
 * `list()` is pending share it. The registry keeps its last good list, as a proxy keeps its last
 * good config: a list that fails validation, or a `list()` that throws or rejects, is logged and
 * the last good list serves on. With no good list yet, or when `list()` does not settle within
 * `timeoutMs`, the source rejects with a `RegistryUnavailableError` (code
 * `provider_registry_unavailable`, status 503).
 */
export function createIndexSource(
  providers: readonly ProviderConfig[] | ProviderRegistry,
  option = 'providers',
  options: IndexSourceOptions = {},
): () => ProviderIndex | Promise<ProviderIndex> {
  if (Array.isArray(providers)) {
    const index = new ProviderIndex(resolveProviders(providers, option));
    return () => index;
  }
  if (typeof providers !== 'object' || providers === null || typeof (providers as ProviderRegistry).list !== 'function') {
    throw new InvalidOptionError(option, 'must be an array of provider configs or an object with a list() method');
  }
  const registry = providers as ProviderRegistry;
  const timeoutMs = options.timeoutMs ?? DEFAULT_REGISTRY_TIMEOUT_MS;
  const where = `${option}.list()`;
  const valid = new WeakMap<object, ProviderIndex>();
  /** Lists that failed validation, so one bad list is validated and logged once. */
  const invalid = new WeakSet<object>();
  let lastGood: ProviderIndex | undefined;
  let pending: Promise<ProviderIndex> | undefined;

  const report = (message: string, error: unknown): void => {
    try {
      options.logger?.log('error', message, { error: messageOf(error) });
    } catch {
      // a logger that throws must not take the registry down with it
    }
  };
  /** The last good list when there is one; else the 503 error. */
  const fallBack = (message: string, error: unknown): ProviderIndex => {
    if (lastGood) return lastGood;
    throw new RegistryUnavailableError(`The provider registry is unavailable: ${message}`, { cause: error });
  };
  const indexOf = (configs: unknown): ProviderIndex => {
    const key = typeof configs === 'object' && configs !== null ? configs : undefined;
    let index = key && valid.get(key);
    if (!index) {
      if (key && invalid.has(key)) return fallBack('its list is invalid', undefined);
      try {
        index = new ProviderIndex(resolveProviders(configs as readonly ProviderConfig[], where));
      } catch (error) {
        if (!isInvalidOption(error)) throw error;
        if (key) invalid.add(key);
        report(`${where} returned an invalid provider list; ${lastGood ? 'the last good list serves on' : 'there is no good list yet'}`, error);
        return fallBack('its list is invalid', error);
      }
      if (key) valid.set(key, index);
    }
    lastGood = index;
    return index;
  };
  const failed = (error: unknown): ProviderIndex => {
    report(`${where} failed; ${lastGood ? 'the last good list serves on' : 'there is no good list yet'}`, error);
    return fallBack(`${where} failed`, error);
  };

  return () => {
    if (pending) return pending;
    let listed: ReturnType<ProviderRegistry['list']>;
    try {
      listed = registry.list();
    } catch (error) {
      return failed(error);
    }
    if (typeof (listed as Partial<PromiseLike<unknown>> | null)?.then !== 'function') return indexOf(listed);
    const current = new Promise<ProviderIndex>((resolve, reject) => {
      const settle = (make: () => ProviderIndex): void => {
        clearTimeout(timer);
        try {
          resolve(make());
        } catch (error) {
          reject(error);
        }
      };
      const timer = setTimeout(() => {
        if (pending === current) pending = undefined; // the next caller asks the registry again
        const error = new RegistryUnavailableError(`The provider registry is unavailable: ${where} did not settle within ${timeoutMs} ms`);
        report(`${where} did not settle within ${timeoutMs} ms`, error);
        reject(error);
      }, timeoutMs);
      timer.unref?.(); // a hung registry never keeps the host process alive
      try {
        (listed as PromiseLike<readonly ProviderConfig[]>).then(
          (configs) => settle(() => indexOf(configs)),
          (error: unknown) => settle(() => failed(error)),
        );
      } catch (error) {
        settle(() => failed(error)); // a thenable whose then() throws: a failed list like any other
      }
    }).finally(() => {
      if (pending === current) pending = undefined;
    });
    pending = current;
    return current;
  };
}
