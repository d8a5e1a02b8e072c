/** Turns probe results into provider reports and the check-all totals. */
import type { ResolvedProvider } from '../registry/types.js';
import type { HealthCheckReport, ModelHealth, ProviderHealthReport, ProviderHealthStatus } from './types.js';

function statusOf(models: readonly ModelHealth[]): ProviderHealthStatus {
  if (models.length === 0) return 'unknown';
  const healthy = models.filter((m) => m.status === 'healthy').length;
  if (healthy === models.length) return 'healthy';
  return healthy === 0 ? 'unhealthy' : 'degraded';
}

/** The report for one provider; `disabled` providers are never probed, so `models` is empty. */
export function providerReport(provider: ResolvedProvider, models: ModelHealth[]): ProviderHealthReport {
  const healthy = models.filter((m) => m.status === 'healthy').length;
  const times = models.map((m) => m.response_time_ms);
  const average = times.length === 0 ? {} : { avg_response_time_ms: Math.round(times.reduce((sum, ms) => sum + ms, 0) / times.length) };
  return {
    provider_id: provider.id,
    provider_key: provider.key,
    status: provider.enabled ? statusOf(models) : 'disabled',
    models,
    summary: { total_models: models.length, healthy_models: healthy, unhealthy_models: models.length - healthy },
    ...average,
    checked_at: new Date().toISOString(),
  };
}

/** Totals over provider reports; `disabled` and `unknown` providers count only in `total_providers`. */
export function checkReport(providers: ProviderHealthReport[]): HealthCheckReport {
  const count = (status: ProviderHealthStatus) => providers.filter((p) => p.status === status).length;
  return {
    providers,
    total_providers: providers.length,
    healthy_providers: count('healthy'),
    degraded_providers: count('degraded'),
    unhealthy_providers: count('unhealthy'),
  };
}
