/** The health reports, in the JSON shape the admin routes send (snake_case on purpose). */

/** One probed model. */
export interface ModelHealth {
  /** The client-facing model name. */
  model: string;
  /** The upstream model name the probe sent. */
  upstream_model: string;
  status: 'healthy' | 'unhealthy';
  /**
   * Whole milliseconds from sending the probe to the end of the response body, to the timeout,
   * or to the failure (e.g. a refused connection).
   */
  response_time_ms: number;
  /** The upstream's HTTP status, whenever one arrived. */
  http_status?: number;
  /** Why the model is unhealthy: `HTTP <status> - <message>`, `Timeout after <n>s`, or a connection error. */
  error?: string;
}

/** `unknown`: nothing to probe (an empty mapping, or `models: []`). */
export type ProviderHealthStatus = 'healthy' | 'degraded' | 'unhealthy' | 'disabled' | 'unknown';

export interface HealthSummary {
  total_models: number;
  healthy_models: number;
  unhealthy_models: number;
}

/** One provider's report: what `checkProvider()` and `POST /admin/v1/providers/:id/health` return. */
export interface ProviderHealthReport {
  /** The configured id, with its type (a number stays a number). */
  provider_id: string | number;
  provider_key: string;
  status: ProviderHealthStatus;
  /** In the provider's mapping order, or in the order asked. */
  models: ModelHealth[];
  summary: HealthSummary;
  /** Mean `response_time_ms` over models with a time, rounded; absent when none has one. */
  avg_response_time_ms?: number;
  /** When the provider's probes finished, ISO 8601 UTC. */
  checked_at: string;
}

/** What `checkProviders()` and `POST /admin/v1/health/check` return. */
export interface HealthCheckReport {
  providers: ProviderHealthReport[];
  total_providers: number;
  healthy_providers: number;
  degraded_providers: number;
  unhealthy_providers: number;
}

/** Options of one check. */
export interface CheckOptions {
  /** Client-facing model names to probe; omitted or `null` means every mapped model. */
  models?: readonly string[] | null;
  /** Probes in flight at once, across every model and provider of the call. Default 2. */
  maxConcurrent?: number;
  /** Per probe, body read included. Default 30000. */
  timeoutMs?: number;
}

export interface CheckProvidersOptions extends CheckOptions {
  /** Providers to check, in this order; omitted or `null` means every enabled provider. */
  providerIds?: readonly (string | number)[] | null;
}
