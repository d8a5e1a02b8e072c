/**
 * ProxyMetrics recorded as Prometheus metrics in the host's prom-client Registry: every metric is
 * registered only there (nothing in prom-client's global registry, no default metrics).
 *
 * Two recorders on one registry (two routers, one /metrics) share the metrics: the second finds
 * ours already registered and reuses them, so both add to the same series. A metric of the same
 * name that is not ours (another type, labels or buckets) is an error naming it.
 */
import type * as PromClient from 'prom-client';
import type { Registry, RegistryContentType } from 'prom-client';
import { InvalidOptionError } from '../errors/errors.js';
import { loadOptional } from './load-optional.js';
import type { CircuitState, ProxyMetrics, RequestFinishedEvent } from './types.js';

export interface PrometheusMetricsOptions {
  /** The prom-client Registry to register the metrics in (e.g. `new Registry()` or prom-client's `register`). */
  registry: Registry<RegistryContentType>;
}

/** Request duration and time to first token: 50 ms to 10 minutes (reasoning models think for minutes). */
export const LATENCY_BUCKETS: readonly number[] = [0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 7.5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600];
/** Time spent in the proxy itself: 50 µs to 1 s. */
export const OVERHEAD_BUCKETS: readonly number[] = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

type Kind = 'counter' | 'gauge' | 'histogram';
interface Definition {
  name: string;
  kind: Kind;
  help: string;
  labelNames: readonly string[];
  buckets?: readonly number[];
}

const METRICS = {
  requests: { name: 'llm_proxy_requests_total', kind: 'counter', help: 'Requests served, by API, provider, client-facing model and status.', labelNames: ['api', 'provider', 'model', 'status'] },
  duration: { name: 'llm_proxy_request_duration_seconds', kind: 'histogram', help: 'Time from a request\'s arrival to its end.', labelNames: ['api', 'provider', 'model', 'stream'], buckets: LATENCY_BUCKETS },
  ttft: { name: 'llm_proxy_time_to_first_token_seconds', kind: 'histogram', help: 'Time from a streamed request\'s arrival to the first body byte sent.', labelNames: ['api', 'provider', 'model'], buckets: LATENCY_BUCKETS },
  overhead: { name: 'llm_proxy_overhead_seconds', kind: 'histogram', help: 'Time a request spent in the proxy itself.', labelNames: ['api'], buckets: OVERHEAD_BUCKETS },
  tokens: { name: 'llm_proxy_tokens_total', kind: 'counter', help: 'Tokens the upstreams reported, by type (input, output).', labelNames: ['api', 'provider', 'model', 'type'] },
  upstreamErrors: { name: 'llm_proxy_upstream_errors_total', kind: 'counter', help: 'Failed upstream attempts, by kind (connection, timeout, request, status_<code>, stream_error).', labelNames: ['provider', 'model', 'kind'] },
  failovers: { name: 'llm_proxy_failovers_total', kind: 'counter', help: 'Times a request moved on from a provider to another.', labelNames: ['from_provider', 'model'] },
  activeStreams: { name: 'llm_proxy_active_streams', kind: 'gauge', help: 'Streams being forwarded right now.', labelNames: ['api'] },
  disconnects: { name: 'llm_proxy_client_disconnects_total', kind: 'counter', help: 'Clients that went away before their answer was complete.', labelNames: ['api'] },
  circuit: { name: 'llm_proxy_circuit_state', kind: 'gauge', help: 'Circuit breaker state per provider and model: 1 for the current state, 0 for the others.', labelNames: ['provider', 'model', 'state'] },
  health: { name: 'llm_proxy_provider_health', kind: 'gauge', help: 'Provider health per model: 1 healthy, 0 unhealthy.', labelNames: ['provider', 'model'] },
} as const satisfies Record<string, Definition>;

const CIRCUIT_STATES: readonly CircuitState[] = ['closed', 'open', 'half_open'];

type Counter = PromClient.Counter<string>;
type Gauge = PromClient.Gauge<string>;
type Histogram = PromClient.Histogram<string>;

/**
 * `option` names the option in errors (the router passes `metrics.registry`).
 *
 * @example
 * const registry = new Registry();
 * const metrics = createPrometheusMetrics({ registry });
 * app.get('/metrics', async (_req, res) => res.type(registry.contentType).send(await registry.metrics()));
 */
export function createPrometheusMetrics(options: PrometheusMetricsOptions, option = 'registry'): ProxyMetrics {
  const registry = options?.registry;
  if (typeof registry?.registerMetric !== 'function' || typeof registry.getSingleMetric !== 'function') {
    throw new InvalidOptionError(option, 'must be a prom-client Registry');
  }
  const prom = loadOptional<typeof PromClient>('prom-client', option);
  const get = (definition: Definition): unknown => existingOrNew(prom, registry, definition, option);
  const requests = get(METRICS.requests) as Counter;
  const duration = get(METRICS.duration) as Histogram;
  const ttft = get(METRICS.ttft) as Histogram;
  const overhead = get(METRICS.overhead) as Histogram;
  const tokens = get(METRICS.tokens) as Counter;
  const upstreamErrors = get(METRICS.upstreamErrors) as Counter;
  const failovers = get(METRICS.failovers) as Counter;
  const activeStreams = get(METRICS.activeStreams) as Gauge;
  const disconnects = get(METRICS.disconnects) as Counter;
  const circuit = get(METRICS.circuit) as Gauge;
  const health = get(METRICS.health) as Gauge;

  return {
    requestFinished(e: RequestFinishedEvent): void {
      const { api, provider, model } = e;
      requests.inc({ api, provider, model, status: String(e.status) });
      duration.observe({ api, provider, model, stream: e.stream ? 'true' : 'false' }, e.durationS);
      if (e.stream && e.ttftS !== undefined) ttft.observe({ api, provider, model }, e.ttftS);
      if (e.overheadS !== undefined) overhead.observe({ api }, e.overheadS);
      if (e.usage) {
        if (e.usage.input_tokens > 0) tokens.inc({ api, provider, model, type: 'input' }, e.usage.input_tokens);
        if (e.usage.output_tokens > 0) tokens.inc({ api, provider, model, type: 'output' }, e.usage.output_tokens);
      }
    },
    upstreamError: ({ provider, model, kind }) => upstreamErrors.inc({ provider, model, kind }),
    failover: ({ fromProvider, model }) => failovers.inc({ from_provider: fromProvider, model }),
    streamStarted: (api) => activeStreams.inc({ api }),
    streamEnded: (api) => activeStreams.dec({ api }),
    clientDisconnected: (api) => disconnects.inc({ api }),
    circuitState(provider, model, state): void {
      for (const each of CIRCUIT_STATES) circuit.set({ provider, model, state: each }, each === state ? 1 : 0);
    },
    providerHealth: (provider, model, healthy) => health.set({ provider, model }, healthy ? 1 : 0),
  };
}

/** Ours when already registered (checked by type, labels and buckets), else created in `registry` only. */
function existingOrNew(prom: typeof PromClient, registry: Registry<RegistryContentType>, definition: Definition, option: string): unknown {
  const existing = registry.getSingleMetric(definition.name) as { type?: string; labelNames?: readonly string[]; upperBounds?: readonly number[] } | undefined;
  if (existing !== undefined) {
    const same =
      existing.type === definition.kind &&
      sameList(existing.labelNames ?? [], definition.labelNames) &&
      (definition.buckets === undefined || sameList(existing.upperBounds ?? [], definition.buckets));
    if (!same) {
      throw new InvalidOptionError(option, `already has a metric named ${definition.name} that express-llm-proxy did not create (another type, labels or buckets)`);
    }
    return existing;
  }
  const config = { name: definition.name, help: definition.help, labelNames: [...definition.labelNames], registers: [registry] };
  if (definition.kind === 'counter') return new prom.Counter(config);
  if (definition.kind === 'gauge') return new prom.Gauge(config);
  return new prom.Histogram({ ...config, buckets: [...definition.buckets!] });
}

function sameList<T>(a: readonly T[], b: readonly T[]): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}
