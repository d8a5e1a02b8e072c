// The main entry: the router and the pieces a host uses on their own. Everything else is internal.
export { createLlmProxyRouter } from './router/create-router.js';
export type { CloseOptions, LlmProxyRouter } from './router/create-router.js';
export type { HealthRoutingOptions, LlmProxyOptions, ResponsesOptions, TimeoutOptions } from './router/options.js';
export type { ApiKeys, ApiKeyCheck } from './router/client-auth.js';
export type { BreakerOptions } from './resilience/breaker.js';
export type { RetryOptions } from './resilience/retry.js';
export type { HealthCheckConfig, ModelMapping, ProviderApi, ProviderConfig, ProviderRegistry, ProviderType } from './registry/index.js';
export type { RateLimitOptions } from './limits/options.js';

// Shared state: the `store` option's interface and the in-process default. The Redis store is its
// own entry (`express-llm-proxy/redis`), so that `redis` stays an optional peer.
export { MemoryStore } from './state/index.js';
export type { MemoryStoreOptions, RateLimitDecision, RateLimits, RateLimitUsage, RecordUpdate, SharedRecords, StateStore } from './state/index.js';

// Observability: the hooks' events and the metrics/tracing/usage options.
export type { FinishHookEntry, LlmProxyHooks, LogFieldsFunction, RequestHookEvent, RequestLogEntry, ResponseHookEvent } from './observe/hooks.js';
export type { MetricsOptions, OtelMeter, OtelTracer, PrometheusRegistry, TracingOptions, UsageOptions } from './observe/options.js';
export type { Usage } from './usage/types.js';

// Transports: the default one (to pass your own undici dispatcher) and the fetch adapter.
export * from './transport/index.js';
// The SSE pipe and the request logger work on plain node:http as well.
export * from './sse/index.js';
export * from './logging/index.js';
// Errors and the classifier (also `express-llm-proxy/errors`, without Express).
export * from './errors/index.js';
// Health: the service is also its own entry (`express-llm-proxy/health`, no Express); the
// sub-router lets a host mount the admin health routes elsewhere.
export * from './health/index.js';
export { createHealthRouter } from './router/health-router.js';
export type { HealthRouterOptions } from './router/health-router.js';
