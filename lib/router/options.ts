/** The router's options validated into a resolved config, once, at construction. */
import {
  DEFAULT_BODY_LIMIT,
  DEFAULT_BREAKER,
  DEFAULT_HEALTH,
  DEFAULT_HEARTBEAT_MS,
  DEFAULT_MAX_RESPONSE_BYTES,
  DEFAULT_REGISTRY_TIMEOUT_MS,
  DEFAULT_RESPONSES,
  DEFAULT_RETRY,
  DEFAULT_TIMEOUTS,
} from '../defaults.js';
import { InvalidOptionError } from '../errors/errors.js';
import { nonNegativeMs, positiveInteger, positiveMs } from '../util/option-checks.js';
import { checkKeys } from '../util/option-keys.js';
import type { ApiKeys } from './client-auth.js';
import type { LlmProxyOptions, ResponsesOptions, TimeoutOptions } from './option-types.js';
import { OPTION_HINTS, OPTION_KEYS } from './option-types.js';
import { warnAboutConfig } from './config-warnings.js';
import { createFetchTransport } from '../transport/fetch-transport.js';
import type { UpstreamTransport } from '../transport/types.js';
import { createUndiciTransport } from '../transport/undici-transport.js';
import type { LogSink } from '../logging/logger.js';
import { JsonLinesLog } from '../logging/json-lines.js';
import { toLogSink } from '../logging/logger.js';
import type { ProviderIndex } from '../registry/provider-index.js';
import { createIndexSource } from '../registry/provider-index.js';
import type { ProviderConfig, ProviderRegistry } from '../registry/types.js';

export type { HealthRoutingOptions, LlmProxyOptions, ResponsesOptions, TimeoutOptions } from './option-types.js';
import type { ProxyTimeouts } from '../proxy/config.js';
import type { BreakerOptions } from '../resilience/breaker.js';
import type { RetryOptions } from '../resilience/retry.js';
import type { ResolvedLimits } from '../limits/options.js';
import { resolveLimits } from '../limits/options.js';
import { MemoryStore } from '../state/memory-store.js';
import type { StateStore } from '../state/types.js';
import type { Observability } from '../observe/options.js';
import { checkObservability } from '../observe/options.js';

export interface ResolvedOptions {
  index: () => ProviderIndex | Promise<ProviderIndex>;
  providers: readonly ProviderConfig[] | ProviderRegistry;
  transport: UpstreamTransport;
  /** Closes what the router created itself (the default transport's sockets). */
  closeTransport: () => Promise<void>;
  /** The host's logger, adapted once (see `toLogSink`). */
  logger: LogSink;
  logRequests: boolean;
  apiKeys: ApiKeys | undefined;
  adminKey: string | undefined;
  timeouts: ProxyTimeouts;
  heartbeatMs: number;
  bodyLimit: number;
  maxResponseBytes: number;
  retry: RetryOptions;
  breaker: BreakerOptions;
  health: { intervalMs: number | undefined; timeoutMs: number; maxConcurrent: number; staleMs: number };
  registryTimeoutMs: number;
  store: StateStore;
  /** Closes the store when the router made it. */
  closeStore: () => Promise<void>;
  limits: ResolvedLimits | undefined;
  responses: { maxRemembered: number; rememberMs: number };
  /** Metrics, tracing, hooks, log fields and usage options, their recorders created. */
  observe: Observability;
}

const UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

/**
 * A key with whitespace can never match a bearer token, so it would lock everyone out without a
 * word; it is nearly always a key read from a file with its trailing newline.
 */
function checkKeySpacing(key: string, option: string): void {
  if (/\s/.test(key)) {
    throw new InvalidOptionError(option, 'must not contain whitespace: trim it (a key read from a file usually ends with a newline)');
  }
}

export function parseByteSize(value: number | string, option: string): number {
  if (typeof value === 'number' && Number.isInteger(value) && value > 0) {
    return value;
  }
  const match = typeof value === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?\s*$/i.exec(value) : null;
  // '0' or '0.1b' would parse to a limit of 0 bytes, which refuses every request.
  const bytes = match ? Math.floor(Number(match[1]) * UNITS[(match[2] ?? 'b').toLowerCase()]) : 0;
  if (bytes < 1) {
    throw new InvalidOptionError(option, "must be a positive number of bytes or a size like '20mb'");
  }
  return bytes;
}

function objectOption<T extends object>(value: T | undefined, option: string): Partial<T> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidOptionError(option, 'must be an object');
  }
  return value;
}

function resolveRetry(value: Partial<RetryOptions> | undefined): RetryOptions {
  const retry = objectOption(value, 'retry');
  const onStatus = retry.onStatus ?? DEFAULT_RETRY.onStatus;
  if (!Array.isArray(onStatus) || !onStatus.every((status) => Number.isInteger(status) && status >= 100 && status <= 599)) {
    throw new InvalidOptionError('retry.onStatus', 'must be an array of HTTP status codes (100-599)');
  }
  if (retry.sameProvider !== undefined && typeof retry.sameProvider !== 'boolean') {
    throw new InvalidOptionError('retry.sameProvider', 'must be a boolean');
  }
  return {
    maxAttempts: positiveInteger(retry.maxAttempts, 'retry.maxAttempts', DEFAULT_RETRY.maxAttempts, 20),
    onStatus: [...onStatus],
    sameProvider: retry.sameProvider ?? DEFAULT_RETRY.sameProvider,
    baseDelayMs: nonNegativeMs(retry.baseDelayMs, 'retry.baseDelayMs', DEFAULT_RETRY.baseDelayMs),
    maxDelayMs: nonNegativeMs(retry.maxDelayMs, 'retry.maxDelayMs', DEFAULT_RETRY.maxDelayMs),
  };
}

function resolveBreaker(value: LlmProxyOptions['breaker']): BreakerOptions {
  const breaker = objectOption(value, 'breaker');
  const cooldownMs = positiveMs(breaker.cooldownMs, 'breaker.cooldownMs', DEFAULT_BREAKER.cooldownMs);
  return {
    failureThreshold: positiveInteger(breaker.failureThreshold, 'breaker.failureThreshold', DEFAULT_BREAKER.failureThreshold),
    cooldownMs,
    maxCooldownMs: Math.max(cooldownMs, positiveMs(breaker.maxCooldownMs, 'breaker.maxCooldownMs', DEFAULT_BREAKER.maxCooldownMs)),
  };
}

function resolveTimeouts(value: TimeoutOptions | undefined): ProxyTimeouts {
  const timeouts = objectOption(value, 'timeouts');
  return {
    requestMs: positiveMs(timeouts.requestMs, 'timeouts.requestMs', DEFAULT_TIMEOUTS.requestMs),
    ttftMs: positiveMs(timeouts.ttftMs, 'timeouts.ttftMs', DEFAULT_TIMEOUTS.ttftMs),
    streamIdleMs: positiveMs(timeouts.streamIdleMs, 'timeouts.streamIdleMs', DEFAULT_TIMEOUTS.streamIdleMs),
    streamMaxMs: timeouts.streamMaxMs === undefined ? undefined : positiveMs(timeouts.streamMaxMs, 'timeouts.streamMaxMs', 0),
  };
}

function resolveResponses(value: ResponsesOptions | undefined): ResolvedOptions['responses'] {
  const responses = objectOption(value, 'responses');
  return {
    maxRemembered: positiveInteger(responses.maxRemembered, 'responses.maxRemembered', DEFAULT_RESPONSES.maxRemembered),
    rememberMs: positiveMs(responses.rememberMs, 'responses.rememberMs', DEFAULT_RESPONSES.rememberMs),
  };
}

/** The transport the router uses, and how to close it (only one the router made itself). */
function resolveTransport(options: LlmProxyOptions): { transport: UpstreamTransport; closeTransport: () => Promise<void> } {
  const { transport, fetch } = options;
  if (transport !== undefined && fetch !== undefined) {
    throw new InvalidOptionError('fetch', 'cannot be combined with `transport`; pass one of them');
  }
  if (transport !== undefined) {
    if (typeof transport !== 'function') {
      throw new InvalidOptionError('transport', 'must be an UpstreamTransport: (request) => Promise<{ status, headers, body }>, e.g. createUndiciTransport()');
    }
    return { transport, closeTransport: async () => {} };
  }
  if (fetch !== undefined) {
    if (typeof fetch !== 'function') {
      throw new InvalidOptionError('fetch', 'must be a fetch-compatible function (url, init) => Promise<Response>');
    }
    return { transport: createFetchTransport(fetch), closeTransport: async () => {} };
  }
  const own = createUndiciTransport();
  return { transport: own, closeTransport: () => own.close() };
}

const STORE_METHODS = ['records', 'tryLock', 'releaseLock', 'remember', 'recall', 'recallRemote', 'hit', 'charge', 'close'] as const;

function resolveStore(store: unknown, responses: ResolvedOptions['responses']): { store: StateStore; closeStore: () => Promise<void> } {
  if (store === undefined) {
    const own = new MemoryStore({ maxAffinityEntries: responses.maxRemembered });
    return { store: own, closeStore: () => own.close() };
  }
  const s = store as Partial<Record<string, unknown>> | null;
  if (typeof s !== 'object' || s === null || !STORE_METHODS.every((method) => typeof s[method] === 'function')) {
    throw new InvalidOptionError('store', 'must be a StateStore: new MemoryStore(), or createRedisStore({ client }) from express-llm-proxy/redis');
  }
  return { store: store as StateStore, closeStore: async () => {} };
}


export function resolveOptions(options: LlmProxyOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null || (options as unknown as { method?: unknown }).method !== undefined) {
    throw new InvalidOptionError('options', 'must be an object: call createLlmProxyRouter({ providers }) and mount what it returns');
  }
  checkKeys(options, OPTION_KEYS, OPTION_HINTS);
  if (options.providers === undefined) {
    throw new InvalidOptionError('providers', 'is required: an array of provider configs or an object with a list() method');
  }
  const logger = options.logger === undefined ? new JsonLinesLog() : toLogSink(options.logger, 'logger');
  const registryTimeoutMs = positiveMs(options.registryTimeoutMs, 'registryTimeoutMs', DEFAULT_REGISTRY_TIMEOUT_MS);
  const index = createIndexSource(options.providers, 'providers', { timeoutMs: registryTimeoutMs, logger });
  if (options.logRequests !== undefined && typeof options.logRequests !== 'boolean') {
    throw new InvalidOptionError('logRequests', 'must be a boolean');
  }
  const { apiKeys, adminKey } = options;
  if (apiKeys !== undefined && typeof apiKeys !== 'function' && !(Array.isArray(apiKeys) && apiKeys.every((key) => typeof key === 'string' && key.length > 0))) {
    throw new InvalidOptionError('apiKeys', 'must be an array of non-empty strings or a function (key, req) => boolean | string');
  }
  if (Array.isArray(apiKeys)) apiKeys.forEach((key, i) => checkKeySpacing(key, `apiKeys[${i}]`));
  if (adminKey !== undefined && (typeof adminKey !== 'string' || adminKey.length === 0)) {
    throw new InvalidOptionError('adminKey', 'must be a non-empty string');
  }
  if (adminKey !== undefined) checkKeySpacing(adminKey, 'adminKey');
  const health = objectOption(options.health, 'health');
  const responses = resolveResponses(options.responses);
  const observe = checkObservability(options);
  const resolved = {
    index,
    providers: options.providers,
    logger,
    logRequests: options.logRequests ?? true,
    apiKeys,
    adminKey,
    timeouts: resolveTimeouts(options.timeouts),
    heartbeatMs: nonNegativeMs(options.heartbeatMs, 'heartbeatMs', DEFAULT_HEARTBEAT_MS),
    bodyLimit: options.bodyLimit === undefined ? DEFAULT_BODY_LIMIT : parseByteSize(options.bodyLimit, 'bodyLimit'),
    maxResponseBytes: options.maxResponseBytes === undefined ? DEFAULT_MAX_RESPONSE_BYTES : parseByteSize(options.maxResponseBytes, 'maxResponseBytes'),
    retry: resolveRetry(options.retry),
    breaker: resolveBreaker(options.breaker),
    health: {
      intervalMs: health.intervalMs === undefined ? undefined : positiveMs(health.intervalMs, 'health.intervalMs', 0),
      timeoutMs: positiveMs(health.timeoutMs, 'health.timeoutMs', DEFAULT_HEALTH.timeoutMs),
      maxConcurrent: positiveInteger(health.maxConcurrent, 'health.maxConcurrent', DEFAULT_HEALTH.maxConcurrent, DEFAULT_HEALTH.maxConcurrentLimit),
      staleMs: positiveMs(health.staleMs, 'health.staleMs', DEFAULT_HEALTH.staleMs),
    },
    registryTimeoutMs,
    limits: resolveLimits(options.limits),
    responses,
  };
  // Sockets and a store only once every option has passed, so a bad option leaves nothing behind;
  // metrics in the host's registry last: creating them fails on a registry that holds another
  // metric of one of our names, and then what was made is closed again.
  const store = resolveStore(options.store, responses);
  const transport = resolveTransport(options);
  let observability: Observability;
  try {
    observability = observe();
  } catch (error) {
    void transport.closeTransport();
    void store.closeStore();
    throw error;
  }
  warnAboutConfig(options, logger);
  return { ...resolved, ...store, ...transport, observe: observability };
}
