// Metrics and tracing: one small interface the proxy calls, with Prometheus and OpenTelemetry
// recorders behind it. Each backend loads its package only when it is created.
export { combineMetrics } from './combine.js';
export type { MetricsErrorHandler, MetricsMethod } from './combine.js';
export { createPrometheusMetrics, LATENCY_BUCKETS, OVERHEAD_BUCKETS } from './prometheus.js';
export type { PrometheusMetricsOptions } from './prometheus.js';
export { createOtelMetrics, GEN_AI_OPERATION } from './otel-metrics.js';
export type { OtelMetricsOptions } from './otel-metrics.js';
export { createTracing } from './tracing.js';
export type { AttemptSpanAttributes, AttemptTrace, IncomingTraceHeaders, ProxyTracing, RequestSpanAttributes, RequestTrace, SpanUsage, TracingOptions } from './tracing.js';
export type { CircuitState, FailoverEvent, ProxyMetrics, RequestFinishedEvent, UpstreamErrorEvent } from './types.js';
