// The main entry: the router and every piece it is built from, each usable on its own.
export { createLlmProxyRouter } from './router/create-router.js';
export type { LlmProxyRouter } from './router/create-router.js';
export { DEFAULT_TIMEOUTS, DEFAULT_HEARTBEAT_MS, DEFAULT_BODY_LIMIT } from './router/options.js';
export type { LlmProxyOptions } from './router/options.js';

export * from './errors/index.js';
export * from './registry/index.js';
export * from './transport/index.js';
export * from './sse/index.js';
export * from './logging/index.js';
export { safeEqual, bearerToken } from './http/keys.js';
export type { ApiKeys } from './http/keys.js';
export type { ProxyTimeouts } from './proxy/handler.js';
export { CircuitBreakers } from './resilience/breaker.js';
export type { BreakerOptions, PairReport } from './resilience/breaker.js';
export type { RetryOptions } from './resilience/retry.js';
export type { HealthRoutingOptions } from './router/options.js';
// Health: the service is also its own entry (`express-llm-proxy/health`, no Express); the
// sub-router lets a host mount the admin health routes elsewhere.
export * from './health/index.js';
export { createHealthRouter } from './router/health-router.js';
export type { HealthRouterOptions } from './router/health-router.js';
