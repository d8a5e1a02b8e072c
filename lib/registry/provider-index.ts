/** Lookups derived from a list of provider configs: by id, and by client-facing model. */
import type { ProviderConfig, ProviderRegistry, ResolvedProvider } from './types.js';
import { resolveProviders } from './validate.js';
import { InvalidOptionError } from '../errors/errors.js';

export class ProviderIndex {
  readonly providers: readonly ResolvedProvider[];
  readonly #byId = new Map<string, ResolvedProvider>();
  readonly #byModel = new Map<string, ResolvedProvider[]>();

  constructor(providers: readonly ResolvedProvider[]) {
    this.providers = providers;
    for (const provider of providers) {
      this.#byId.set(String(provider.id), provider);
      if (!provider.enabled || provider.weight <= 0) {
        continue;
      }
      for (const model of provider.models.keys()) {
        const list = this.#byModel.get(model);
        if (list) {
          list.push(provider);
        } else {
          this.#byModel.set(model, [provider]);
        }
      }
    }
  }

  /** Ids compare as strings, since they usually arrive from a URL. */
  byId(id: string | number): ResolvedProvider | undefined {
    return this.#byId.get(String(id));
  }

  /** Enabled providers with weight > 0 that map `model`, in config order. */
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

/**
 * Turns `providers` (an array or a registry) into a function returning the current index.
 * An array is validated at once; a registry's `list()` result is validated when first seen and
 * its index reused for as long as `list()` returns the same array.
 */
export function createIndexSource(
  providers: readonly ProviderConfig[] | ProviderRegistry,
  option = 'providers',
): () => ProviderIndex | Promise<ProviderIndex> {
  if (Array.isArray(providers)) {
    const index = new ProviderIndex(resolveProviders(providers, option));
    return () => index;
  }
  if (typeof providers !== 'object' || providers === null || typeof (providers as ProviderRegistry).list !== 'function') {
    throw new InvalidOptionError(option, 'must be an array of provider configs or an object with a list() method');
  }
  const registry = providers as ProviderRegistry;
  const cache = new WeakMap<readonly ProviderConfig[], ProviderIndex>();
  const indexOf = (configs: readonly ProviderConfig[]): ProviderIndex => {
    let index = cache.get(configs);
    if (!index) {
      index = new ProviderIndex(resolveProviders(configs, `${option}.list()`));
      cache.set(configs, index);
    }
    return index;
  };
  return () => {
    const listed = registry.list();
    return listed instanceof Promise ? listed.then(indexOf) : indexOf(listed as readonly ProviderConfig[]);
  };
}
