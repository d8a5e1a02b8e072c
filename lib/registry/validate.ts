/** Checks provider configs once and applies defaults; errors name the offending field. */
import { InvalidOptionError } from '../errors/errors.js';
import { PROBE_MODES } from './probe-modes.js';
import type { HealthCheckConfig, ProviderApi, ProviderConfig, ProviderType, ResolvedModel, ResolvedProvider } from './types.js';

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// Header values must not carry CR/LF or other control characters.
 
const HEADER_VALUE = /^[^\x00-\x08\x0a-\x1f\x7f]*$/;
const HEALTH_MODES = new Set(Object.keys(PROBE_MODES));
const HEALTH_MODE_NAMES = Object.keys(PROBE_MODES).map((mode) => `"${mode}"`).join(', ');
const TYPES: readonly ProviderType[] = ['openai', 'anthropic'];
const APIS: readonly ProviderApi[] = ['chat', 'completions', 'embeddings', 'responses', 'messages'];
/** What a provider serves when its config does not say. */
const DEFAULT_APIS: Record<ProviderType, readonly ProviderApi[]> = {
  openai: ['chat', 'completions', 'embeddings', 'responses'],
  anthropic: ['messages'],
};

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function resolveModel(where: string, value: unknown): ResolvedModel {
  if (typeof value === 'string' && value.length > 0) {
    return { upstream: value, healthCheck: undefined };
  }
  if (isPlainObject(value) && typeof value.model === 'string' && value.model.length > 0) {
    const healthCheck = value.healthCheck;
    if (healthCheck !== undefined) {
      if (!isPlainObject(healthCheck)) {
        throw new InvalidOptionError(`${where}.healthCheck`, 'must be an object');
      }
      if (healthCheck.mode !== undefined && !HEALTH_MODES.has(healthCheck.mode as string)) {
        throw new InvalidOptionError(`${where}.healthCheck.mode`, `must be one of ${HEALTH_MODE_NAMES}`);
      }
      if (healthCheck.body !== undefined && !isPlainObject(healthCheck.body)) {
        throw new InvalidOptionError(`${where}.healthCheck.body`, 'must be an object');
      }
    }
    return { upstream: value.model, healthCheck: healthCheck as HealthCheckConfig | undefined };
  }
  throw new InvalidOptionError(where, 'must be a non-empty upstream model name or { model, healthCheck? }');
}

function resolveHeaders(where: string, value: unknown): Record<string, string> {
  if (value === undefined) {
    return {};
  }
  if (!isPlainObject(value)) {
    throw new InvalidOptionError(where, 'must be an object of header names to string values');
  }
  const headers: Record<string, string> = {};
  for (const [name, headerValue] of Object.entries(value)) {
    if (!HEADER_NAME.test(name) || typeof headerValue !== 'string' || !HEADER_VALUE.test(headerValue)) {
      throw new InvalidOptionError(`${where}.${name}`, 'must be a valid header name with a string value without control characters');
    }
    headers[name.toLowerCase()] = headerValue;
  }
  return headers;
}

/** Trailing slashes of the path go (the endpoint path brings its own); the query, if any, stays last. */
function trimBaseUrl(baseUrl: string): string {
  const query = baseUrl.indexOf('?');
  const path = (query === -1 ? baseUrl : baseUrl.slice(0, query)).replace(/\/+$/, '');
  const search = query === -1 || query === baseUrl.length - 1 ? '' : baseUrl.slice(query);
  return path + search;
}

function resolveType(where: string, value: unknown): ProviderType {
  if (value === undefined) return 'openai';
  if (!TYPES.includes(value as ProviderType)) throw new InvalidOptionError(where, 'must be "openai" or "anthropic"');
  return value as ProviderType;
}

function resolveApis(where: string, value: unknown, type: ProviderType): ReadonlySet<ProviderApi> {
  if (value === undefined) return new Set(DEFAULT_APIS[type]);
  if (!Array.isArray(value) || value.length === 0 || !value.every((api) => APIS.includes(api as ProviderApi))) {
    throw new InvalidOptionError(where, `must be a non-empty array of ${APIS.map((api) => `"${api}"`).join(', ')}`);
  }
  return new Set(value as ProviderApi[]);
}

/** Validates one provider config (`where` names it in errors, e.g. `providers[2]`). */
export function resolveProvider(config: unknown, where: string): ResolvedProvider {
  if (!isPlainObject(config)) {
    throw new InvalidOptionError(where, 'must be a provider config object');
  }
  const c = config as Partial<ProviderConfig> & Record<string, unknown>;
  if (!((typeof c.id === 'string' && c.id.length > 0) || (typeof c.id === 'number' && Number.isFinite(c.id)))) {
    throw new InvalidOptionError(`${where}.id`, 'must be a non-empty string or a finite number');
  }
  if (typeof c.key !== 'string' || c.key.length === 0) {
    throw new InvalidOptionError(`${where}.key`, 'must be a non-empty string');
  }
  let url: URL;
  try {
    url = new URL(String(c.baseUrl));
  } catch {
    throw new InvalidOptionError(`${where}.baseUrl`, 'must be an absolute http(s) URL such as https://api.openai.com/v1');
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || typeof c.baseUrl !== 'string') {
    throw new InvalidOptionError(`${where}.baseUrl`, 'must be an absolute http(s) URL such as https://api.openai.com/v1');
  }
  if (c.baseUrl.includes('#')) {
    // A fragment never reaches a server, and the endpoint path would land after it.
    throw new InvalidOptionError(`${where}.baseUrl`, 'must not have a fragment (#...); a query such as ?api-version=2024-10-21 is fine');
  }
  if (c.apiKey !== undefined && (typeof c.apiKey !== 'string' || !HEADER_VALUE.test(c.apiKey))) {
    throw new InvalidOptionError(`${where}.apiKey`, 'must be a string without control characters');
  }
  if (!isPlainObject(c.models)) {
    throw new InvalidOptionError(`${where}.models`, 'must be an object mapping client model names to upstream names');
  }
  const models = new Map<string, ResolvedModel>();
  for (const [name, mapping] of Object.entries(c.models)) {
    models.set(name, resolveModel(`${where}.models.${name}`, mapping));
  }
  const weight = c.weight ?? 1;
  if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0) {
    throw new InvalidOptionError(`${where}.weight`, 'must be a finite number >= 0');
  }
  if (c.enabled !== undefined && typeof c.enabled !== 'boolean') {
    throw new InvalidOptionError(`${where}.enabled`, 'must be a boolean');
  }
  if (c.healthCheck !== undefined && (!isPlainObject(c.healthCheck) || (c.healthCheck.body !== undefined && !isPlainObject(c.healthCheck.body)))) {
    throw new InvalidOptionError(`${where}.healthCheck`, 'must be { body?: object }');
  }
  const type = resolveType(`${where}.type`, c.type);
  return {
    id: c.id,
    key: c.key,
    baseUrl: trimBaseUrl(c.baseUrl),
    type,
    apis: resolveApis(`${where}.apis`, c.apis, type),
    apiKey: c.apiKey,
    weight,
    enabled: c.enabled ?? true,
    headers: resolveHeaders(`${where}.headers`, c.headers),
    models,
    healthCheck: c.healthCheck as ResolvedProvider['healthCheck'],
  };
}

/** Validates a whole list: every entry, then unique `id` and `key`. */
export function resolveProviders(configs: readonly unknown[], where = 'providers'): ResolvedProvider[] {
  if (!Array.isArray(configs)) {
    throw new InvalidOptionError(where, 'must be an array of provider configs or an object with a list() method');
  }
  const resolved = configs.map((config, i) => resolveProvider(config, `${where}[${i}]`));
  const ids = new Set<string>();
  const keys = new Set<string>();
  resolved.forEach((provider, i) => {
    // `1` and `"1"` would be the same provider in a URL, so ids compare as strings.
    if (ids.has(String(provider.id))) {
      throw new InvalidOptionError(`${where}[${i}].id`, `must be unique; ${JSON.stringify(provider.id)} is used twice`);
    }
    if (keys.has(provider.key)) {
      throw new InvalidOptionError(`${where}[${i}].key`, `must be unique; ${JSON.stringify(provider.key)} is used twice`);
    }
    ids.add(String(provider.id));
    keys.add(provider.key);
  });
  return resolved;
}
