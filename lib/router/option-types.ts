/**
 * The router's public options, and the schema of every key they accept (an unknown key throws at
 * construction; a new option is one line in `OPTION_KEYS`, and TypeScript insists on every key).
 */
import type { KeySchema } from '../util/option-keys.js';
import { listOf, recordOf } from '../util/option-keys.js';
import type { ApiKeys } from './client-auth.js';
import type { FetchLike, UpstreamTransport } from '../transport/types.js';
import type { Logger } from '../logging/logger.js';
import type { ProviderConfig, ProviderRegistry } from '../registry/types.js';
import type { BreakerOptions } from '../resilience/breaker.js';
import type { RetryOptions } from '../resilience/retry.js';
import type { RateLimitOptions } from '../limits/options.js';
import type { StateStore } from '../state/types.js';
import type { LlmProxyHooks, LogFieldsFunction } from '../observe/hooks.js';
import type { MetricsOptions, TracingOptions, UsageOptions } from '../observe/options.js';

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
   * `Logger`). Default: JSON lines on stdout at `info`.
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
 * types.
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
  responses: { maxRemembered: true, rememberMs: true } satisfies KeysOf<ResponsesOptions>,
  store: true,
  limits: { requestsPerMinute: true, tokensPerMinute: true, key: true, forKey: true, failClosed: true } satisfies KeysOf<RateLimitOptions>,
  metrics: { registry: true, meter: true } satisfies KeysOf<MetricsOptions>,
  tracing: { tracer: true } satisfies KeysOf<TracingOptions>,
  hooks: { onRequest: true, onResponse: true, onFinish: true } satisfies KeysOf<LlmProxyHooks>,
  logFields: true,
  usage: { includeInStreams: true } satisfies KeysOf<UsageOptions>,
} satisfies KeysOf<LlmProxyOptions>;

/** Names no spelling rule leads to the right option (the openai SDK's among them). `[]` is any index. */
export const OPTION_HINTS: Readonly<Record<string, string>> = {
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
