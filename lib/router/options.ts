/** The router's public options and their validation into a resolved config, once, at construction. */
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
import type { KeySchema } from '../util/option-keys.js';
import { checkKeys, listOf, recordOf } from '../util/option-keys.js';
import type { ApiKeys } from './client-auth.js';
import { warnAboutConfig } from './config-warnings.js';
import { createFetchTransport } from '../transport/fetch-transport.js';
import type { FetchLike, UpstreamTransport } from '../transport/types.js';
import { createUndiciTransport } from '../transport/undici-transport.js';
import type { Logger, LogSink } from '../logging/logger.js';
import { JsonLinesLog } from '../logging/json-lines.js';
import { toLogSink } from '../logging/logger.js';
import type { ProviderIndex } from '../registry/provider-index.js';
import { createIndexSource } from '../registry/provider-index.js';
import type { ProviderConfig, ProviderRegistry } from '../registry/types.js';
import type { ProxyTimeouts } from '../proxy/config.js';
import type { BreakerOptions } from '../resilience/breaker.js';
import type { RetryOptions } from '../resilience/retry.js';
import type { RateLimitOptions, ResolvedLimits } from '../limits/options.js';
import { resolveLimits } from '../limits/options.js';
import { MemoryStore } from '../state/memory-store.js';
import type { StateStore } from '../state/types.js';
import type { LlmProxyHooks, LogFieldsFunction } from '../observe/hooks.js';
import type { MetricsOptions, Observability, TracingOptions, UsageOptions } from '../observe/options.js';
import { checkObservability } from '../observe/options.js';

export interface LlmProxyOptions {
  /** Provider configs, or a registry whose `list()` returns them (sync or async). Required. */
  providers: readonly ProviderConfig[] | ProviderRegistry;
  /**
   * How requests reach the upstreams: any `UpstreamTransport`, such as
   * `createUndiciTransport({ dispatcher, connections })` or one of your own. Default: undici's
   * dispatcher on a keep-alive pool, the cheapest transport we measured. `close()` leaves a
   * transport you pass open.
   */
  transport?: UpstreamTransport | undefined;
  /**
   * Shortcut for `transport: createFetchTransport(fetch)`: any WHATWG fetch-compatible function
   * (node-fetch, Node's global fetch, undici's fetch). Not together with `transport`.
   */
  fetch?: FetchLike | undefined;
  /**
   * A winston or pino logger, `console`, or any object with `info`/`warn`/`error` methods (see
   * `Logger`). Default: winston, JSON to the console at `info`.
   */
  logger?: Logger | undefined;
  /** Log one entry per proxied request. Default true. */
  logRequests?: boolean | undefined;
  /**
   * Client keys (list or predicate). When set, every route of the router requires a key, as
   * `Authorization: Bearer <key>` or `x-api-key: <key>` (what Anthropic clients send). A predicate
   * may return a string identity instead of `true`: it is logged as `client`.
   */
  apiKeys?: ApiKeys | undefined;
  /** Enables the admin routes, which require `Authorization: Bearer <adminKey>`. */
  adminKey?: string | undefined;
  /** Timeouts in milliseconds. */
  timeouts?: TimeoutOptions | undefined;
  /** SSE keep-alive comment after this much upstream silence; 0 turns it off. Default 15000. */
  heartbeatMs?: number | undefined;
  /**
   * Largest request body: bytes or a string like `'20mb'`. Default `'20mb'`. Also applies to a
   * body a host parser read first (measured as the JSON the proxy forwards).
   */
  bodyLimit?: number | string | undefined;
  /**
   * Largest upstream answer the proxy reads whole, as decoded (a compressed answer counts by what
   * it decodes to): bytes or a string like `'64mb'`. Beyond it the answer is cut off with a 502
   * `upstream_response_too_large`. Default `'64mb'`.
   */
  maxResponseBytes?: number | string | undefined;
  /** Failover and retries. */
  retry?: Partial<RetryOptions> | undefined;
  /** Circuit breaker per provider+model. */
  breaker?: Partial<BreakerOptions> | undefined;
  /** Health checks that steer routing (independent of `adminKey`). */
  health?: HealthRoutingOptions | undefined;
  /**
   * How long a registry's `list()` may take. Past it the request gets a 503
   * `provider_registry_unavailable` (and a background health round ends). Default 10000 ms.
   */
  registryTimeoutMs?: number | undefined;
  /**
   * Where breakers, health marks, the latest health reports, locks, rate-limit counters and the
   * Responses API's response → provider map live. Default: a `MemoryStore` (this process only).
   * Several instances behind a load balancer share them through `createRedisStore({ client })` from
   * `express-llm-proxy/redis`. `close()` leaves a store you pass open.
   */
  store?: StateStore | undefined;
  /** Rate limits per client over a sliding 60 s window, counted in `store`. Default: none. */
  limits?: RateLimitOptions | undefined;
  /**
   * Prometheus metrics in your prom-client `registry` and/or the OpenTelemetry GenAI metrics on
   * your `meter` (see "Observability" in the README). prom-client is loaded only when set. Default: none.
   */
  metrics?: MetricsOptions | undefined;
  /** OpenTelemetry spans on your `tracer`: one per request, one per upstream attempt, `traceparent` sent upstream. Default: none. */
  tracing?: TracingOptions | undefined;
  /** `onRequest` (inspect, add upstream headers, reject), `onResponse`, `onFinish`. Default: none. */
  hooks?: LlmProxyHooks | undefined;
  /** Extra fields for each request's log entry and `onFinish` entry (a tenant, a user), from the request. */
  logFields?: LogFieldsFunction | undefined;
  /** Token usage: `includeInStreams` asks chat and completions upstreams for the usage of streams. */
  usage?: UsageOptions | undefined;
  /** Where stored Responses API responses live (follow-ups go to the provider that created them). */
  responses?: ResponsesOptions | undefined;
}

export interface ResponsesOptions {
  /** Most response ids remembered with their provider (in the default store); the oldest is forgotten first. Default 10000. */
  maxRemembered?: number | undefined;
  /** How long an id is remembered. Default 86400000 (24 h). */
  rememberMs?: number | undefined;
}

export interface TimeoutOptions {
  /** Non-streaming: until the upstream body is complete; streaming: until its headers. Default 600000. */
  requestMs?: number | undefined;
  /** Streaming: from the upstream request to the first data event (comment lines do not count). Default 300000. */
  ttftMs?: number | undefined;
  /** Streaming: longest upstream silence between chunks, and longest a client may read nothing. Default 300000. */
  streamIdleMs?: number | undefined;
  /** Streaming: longest a stream may last in all. Default: no limit. */
  streamMaxMs?: number | undefined;
}

export interface HealthRoutingOptions {
  /** Check every provider in the background this often; off when unset. */
  intervalMs?: number | undefined;
  /** Per-probe timeout of background checks. Default 30000 ms. */
  timeoutMs?: number | undefined;
  /** Probes in flight at once in background checks. Default 2. */
  maxConcurrent?: number | undefined;
  /** An unhealthy mark older than this is ignored. Default 600000 ms. */
  staleMs?: number | undefined;
}

type KeysOf<T> = { readonly [K in keyof Required<T>]: KeySchema[string] } & KeySchema;

/** The keys of a provider config; `type` and `apis` are for the Anthropic/Responses APIs. */
const PROVIDER_KEYS = {
  id: true,
  key: true,
  baseUrl: true,
  apiKey: true,
  models: recordOf({ model: true, healthCheck: { mode: true, body: true } }),
  weight: true,
  enabled: true,
  headers: true,
  healthCheck: { body: true },
  type: true,
  apis: true,
} satisfies KeysOf<ProviderConfig>;

/**
 * Every key the router's options accept, in one place: an unknown key throws at construction
 * (`checkKeys`). A new option is one line here; TypeScript insists on every key of the option
 * types. Some are options of work still being merged (`responses`, `metrics`,
 * `tracing`, `hooks`, `logFields`, `usage`).
 */
export const OPTION_KEYS = {
  providers: listOf(PROVIDER_KEYS),
  transport: true,
  fetch: true,
  logger: true,
  logRequests: true,
  apiKeys: true,
  adminKey: true,
  timeouts: { requestMs: true, ttftMs: true, streamIdleMs: true, streamMaxMs: true } satisfies KeysOf<TimeoutOptions>,
  heartbeatMs: true,
  bodyLimit: true,
  maxResponseBytes: true,
  retry: { maxAttempts: true, onStatus: true, sameProvider: true, baseDelayMs: true, maxDelayMs: true } satisfies KeysOf<RetryOptions>,
  breaker: { failureThreshold: true, cooldownMs: true, maxCooldownMs: true } satisfies KeysOf<BreakerOptions>,
  health: { intervalMs: true, timeoutMs: true, maxConcurrent: true, staleMs: true } satisfies KeysOf<HealthRoutingOptions>,
  registryTimeoutMs: true,
  responses: { maxRemembered: true, rememberMs: true },
  store: true,
  limits: { requestsPerMinute: true, tokensPerMinute: true, key: true, forKey: true, failClosed: true } satisfies KeysOf<RateLimitOptions>,
  metrics: { registry: true, meter: true } satisfies KeysOf<MetricsOptions>,
  tracing: { tracer: true } satisfies KeysOf<TracingOptions>,
  hooks: { onRequest: true, onResponse: true, onFinish: true } satisfies KeysOf<LlmProxyHooks>,
  logFields: true,
  usage: { includeInStreams: true } satisfies KeysOf<UsageOptions>,
} satisfies KeysOf<LlmProxyOptions>;

/** Names no spelling rule leads to the right option (the openai SDK's among them). `[]` is any index. */
const OPTION_HINTS: Readonly<Record<string, string>> = {
  maxRetries: 'retry.maxAttempts',
  retries: 'retry.maxAttempts',
  timeout: 'timeouts.requestMs',
  timeoutMs: 'timeouts.requestMs',
  baseUrl: 'providers[i].baseUrl',
  baseURL: 'providers[i].baseUrl',
  models: 'providers[i].models',
  'retry.retries': 'retry.maxAttempts',
  'timeouts.idleMs': 'timeouts.streamIdleMs',
  'timeouts.firstTokenMs': 'timeouts.ttftMs',
  'providers[].url': 'providers[i].baseUrl',
  'providers[].name': 'providers[i].key',
  'providers[].api_key': 'providers[i].apiKey',
};

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
