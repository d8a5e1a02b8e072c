/**
 * Health wiring: the admin routes (when `adminKey` is set), background checks (when
 * `health.intervalMs` is set), and both feeding their results to the breakers that steer routing.
 * Through a shared store, one instance probes per interval (a lock) and every instance steers by
 * its results and shows its reports.
 */
import type { RequestHandler, Router } from 'express';
import { HealthCheckService } from '../health/service.js';
import type { ProviderHealthReport } from '../health/types.js';
import type { ProxyMetrics } from '../metrics/types.js';
import type { CircuitBreakers } from '../resilience/breaker.js';
import type { HealthMarks } from '../resilience/health-marks.js';
import type { StateStore } from '../state/types.js';
import { createHealthRouter } from './health-router.js';
import type { ResolvedOptions } from './options.js';

/** Breaker states with the health marks merged in: one entry per provider+model either knows. */
function pairReport(breakers: CircuitBreakers, health: HealthMarks) {
  const pairs = new Map<string, Record<string, unknown>>();
  const key = (pair: { provider_id: string | number; model: string }) => `${String(pair.provider_id)}\u0000${pair.model}`;
  for (const pair of breakers.report()) pairs.set(key(pair), { ...pair });
  for (const mark of health.report()) {
    const pair = pairs.get(key(mark));
    if (pair) pair.unhealthy_since = mark.unhealthy_since;
    else pairs.set(key(mark), { provider_id: mark.provider_id, model: mark.model, state: 'closed', consecutive_failures: 0, unhealthy_since: mark.unhealthy_since });
  }
  return [...pairs.values()];
}

/** The lock the background prober of an interval holds (shared by every instance of a store). */
export const HEALTH_PROBER_LOCK = 'health-prober';

/**
 * The prober's lock lasts a little less than the interval, so the instance that probes keeps
 * probing on its next tick (the lock it took has just expired), and another instance takes over
 * within an interval of it going away; rounds never start closer than this apart.
 */
export const proberLockMs = (intervalMs: number): number => intervalMs - Math.min(intervalMs / 10, 1000);

/** Returns what the router's `close()` awaits. `metrics` hears every health result. */
export function mountHealth(
  router: Router,
  config: ResolvedOptions,
  log: RequestHandler[],
  breakers: CircuitBreakers,
  health: HealthMarks,
  store: StateStore,
  metrics?: ProxyMetrics,
): () => Promise<void> {
  const { intervalMs } = config.health;
  if (config.adminKey === undefined && intervalMs === undefined) {
    return async () => {};
  }
  // The latest report per provider, whichever instance checked it.
  const latest = store.records<ProviderHealthReport>('health-reports');
  // A report another instance made (its background round, its admin check) sets this one's gauge too.
  const stopWatchingReports = metrics
    ? latest.onChange((_key, report) => {
        if (!report) return;
        for (const model of report.models) metrics.providerHealth(report.provider_key, model.model, model.status === 'healthy');
      })
    : () => {};
  const onReport = (report: ProviderHealthReport): void => {
    void latest.update(String(report.provider_id), () => report);
    for (const model of report.models) {
      health.mark(report.provider_id, model.model, model.status === 'healthy');
      metrics?.providerHealth(report.provider_key, model.model, model.status === 'healthy');
    }
  };
  // The router's own index source: one last good registry list, and its registryTimeoutMs bounds
  // every background round (a round whose list() hangs ends, is logged, and the next one runs).
  const service = new HealthCheckService({ providers: config.providers, index: config.index, transport: config.transport, logger: config.logger, onReport });
  if (config.adminKey !== undefined) {
    const status = () => ({ providers: [...latest.entries()].map(([, report]) => report), breakers: pairReport(breakers, health) });
    router.use(createHealthRouter({ service, adminKey: config.adminKey, before: log, status }));
  }
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;
  if (intervalMs !== undefined) {
    const lockMs = proberLockMs(intervalMs);
    const probe = () => service.checkProviders({ maxConcurrent: config.health.maxConcurrent, timeoutMs: config.health.timeoutMs });
    // Only a shared store has other instances to take turns with.
    const round = !store.shared
      ? probe
      : async (): Promise<unknown> => {
          if (!(await store.tryLock(HEALTH_PROBER_LOCK, lockMs))) return undefined; // another instance probes this interval
          return probe();
        };
    const check = (): void => {
      if (running) return; // a slow check is never stacked on another
      running = round()
        .catch((error: unknown) => {
          try {
            config.logger.log('error', 'background health check failed', { error: error instanceof Error ? error.message : String(error) });
          } catch {
            // contained
          }
        })
        .finally(() => {
          running = undefined;
        });
    };
    timer = setInterval(check, intervalMs);
    timer.unref(); // never keeps the host process alive
    check();
  }
  return async () => {
    clearInterval(timer); // an in-flight check ends by its own probe timeout
    stopWatchingReports();
    await service.close();
  };
}
