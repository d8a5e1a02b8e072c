/**
 * The observability options (`metrics`, `tracing`, `hooks`, `logFields`, `usage`): their public
 * types and their resolution. The host's prom-client Registry, OpenTelemetry Meter and Tracer are
 * typed by the few members the router needs, so the package's types name neither package and a
 * host without them still compiles.
 */
import type { Meter, Tracer } from '@opentelemetry/api';
import type { Registry } from 'prom-client';
import { InvalidOptionError } from '../errors/errors.js';
import { combineMetrics } from '../metrics/combine.js';
import { createOtelMetrics } from '../metrics/otel-metrics.js';
import { createPrometheusMetrics } from '../metrics/prometheus.js';
import { createTracing } from '../metrics/tracing.js';
import type { ProxyTracing } from '../metrics/trace-types.js';
import type { ProxyMetrics } from '../metrics/types.js';
import type { LlmProxyHooks, LogFieldsFunction } from './hooks.js';

/** A prom-client `Registry`, e.g. `new Registry()` (prom-client 15). */
export interface PrometheusRegistry {
  registerMetric(metric: never): void;
  getSingleMetric(name: string): unknown;
}

/** An OpenTelemetry `Meter` from the host's MeterProvider, e.g. `metrics.getMeter('llm-proxy')`. */
export interface OtelMeter {
  createHistogram(name: string, options?: never): unknown;
}

/** An OpenTelemetry `Tracer` from the host's TracerProvider, e.g. `trace.getTracer('llm-proxy')`. */
export interface OtelTracer {
  startSpan(name: string, options?: never, context?: never): unknown;
}

export interface MetricsOptions {
  /** Registers the `llm_proxy_*` metrics in this prom-client Registry (nothing in the global one, no default metrics). */
  registry?: PrometheusRegistry | undefined;
  /** Records the OpenTelemetry GenAI instruments (`gen_ai.server.request.duration`, ...) on this Meter. */
  meter?: OtelMeter | undefined;
}

export interface TracingOptions {
  /** One SERVER span per request, one CLIENT span per upstream attempt; `traceparent` is sent upstream. */
  tracer: OtelTracer;
}

export interface UsageOptions {
  /**
   * For chat and completions streams whose body does not set `stream_options.include_usage`, adds
   * `"stream_options":{"include_usage":true}` upstream, so their usage can be counted (the client
   * then also gets the final usage chunk). Default false.
   */
  includeInStreams?: boolean | undefined;
}

/** The observability options as the router uses them. */
export interface Observability {
  metrics: ProxyMetrics | undefined;
  tracing: ProxyTracing | undefined;
  hooks: LlmProxyHooks;
  logFields: LogFieldsFunction | undefined;
  includeUsageInStreams: boolean;
}

export interface ObservabilityOptions {
  metrics?: MetricsOptions | undefined;
  tracing?: TracingOptions | undefined;
  hooks?: LlmProxyHooks | undefined;
  logFields?: LogFieldsFunction | undefined;
  usage?: UsageOptions | undefined;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const hasMethods = (value: unknown, ...names: string[]): boolean => typeof value === 'object' && value !== null && names.every((name) => typeof (value as Record<string, unknown>)[name] === 'function');

function objectOf(value: unknown, option: string): Record<string, unknown> {
  if (value === undefined) return {};
  if (!isObject(value)) throw new InvalidOptionError(option, 'must be an object');
  return value;
}

/**
 * Checks the options, and returns what creates the recorders: creating them registers metrics in
 * the host's registry, which is left until every other option has passed.
 */
export function checkObservability(options: ObservabilityOptions): () => Observability {
  const metrics = objectOf(options.metrics, 'metrics');
  const { registry, meter } = metrics;
  if (options.metrics !== undefined && registry === undefined && meter === undefined) {
    throw new InvalidOptionError('metrics', 'needs `registry` (a prom-client Registry) or `meter` (an OpenTelemetry Meter), or both');
  }
  if (registry !== undefined && !hasMethods(registry, 'registerMetric', 'getSingleMetric')) throw new InvalidOptionError('metrics.registry', 'must be a prom-client Registry');
  if (meter !== undefined && !hasMethods(meter, 'createHistogram')) throw new InvalidOptionError('metrics.meter', 'must be an OpenTelemetry Meter (from @opentelemetry/api)');
  const tracer = options.tracing === undefined ? undefined : objectOf(options.tracing, 'tracing').tracer;
  if (options.tracing !== undefined && !hasMethods(tracer, 'startSpan')) throw new InvalidOptionError('tracing.tracer', 'must be an OpenTelemetry Tracer (from @opentelemetry/api)');
  const hooks = objectOf(options.hooks, 'hooks') as LlmProxyHooks;
  for (const name of ['onRequest', 'onResponse', 'onFinish'] as const) {
    if (hooks[name] !== undefined && typeof hooks[name] !== 'function') throw new InvalidOptionError(`hooks.${name}`, 'must be a function');
  }
  if (options.logFields !== undefined && typeof options.logFields !== 'function') throw new InvalidOptionError('logFields', 'must be a function (req) => fields');
  const includeInStreams = objectOf(options.usage, 'usage').includeInStreams;
  if (includeInStreams !== undefined && typeof includeInStreams !== 'boolean') throw new InvalidOptionError('usage.includeInStreams', 'must be a boolean');

  return () => {
    const recorders: ProxyMetrics[] = [];
    if (registry !== undefined) recorders.push(createPrometheusMetrics({ registry: registry as unknown as Registry }, 'metrics.registry'));
    if (meter !== undefined) recorders.push(createOtelMetrics({ meter: meter as unknown as Meter }));
    return {
      metrics: recorders.length === 0 ? undefined : combineMetrics(recorders),
      tracing: tracer === undefined ? undefined : createTracing({ tracer: tracer as unknown as Tracer }, 'tracing.tracer'),
      hooks: { onRequest: hooks.onRequest, onResponse: hooks.onResponse, onFinish: hooks.onFinish },
      logFields: options.logFields,
      includeUsageInStreams: includeInStreams ?? false,
    };
  };
}
