/**
 * One ProxyMetrics that hands each call to several recorders. Each recorder is called inside its
 * own try/catch: a recorder that throws is reported (once per recorder and method) and the others
 * still run, so recording can never break the request it describes.
 */
import { InvalidOptionError } from '../errors/errors.js';
import type { ProxyMetrics } from './types.js';

export type MetricsMethod = keyof ProxyMetrics;

/** Called when a recorder throws; the default emits one process warning per recorder and method. */
export type MetricsErrorHandler = (error: unknown, method: MetricsMethod, recorderIndex: number) => void;

const METHODS: readonly MetricsMethod[] = [
  'requestFinished',
  'upstreamError',
  'failover',
  'streamStarted',
  'streamEnded',
  'clientDisconnected',
  'circuitState',
  'providerHealth',
];

function warnOnce(): MetricsErrorHandler {
  const warned = new Set<string>();
  return (error, method, index) => {
    const key = `${index}:${method}`;
    if (warned.has(key)) return;
    warned.add(key);
    const message = error instanceof Error ? error.message : String(error);
    process.emitWarning(`express-llm-proxy: metrics recorder #${index} threw in ${method}(): ${message} (further errors of this recorder and method are not reported)`, 'LlmProxyMetricsWarning');
  };
}

/**
 * Fans every call out to `recorders` (which may implement only some methods).
 *
 * @example
 * const metrics = combineMetrics([createPrometheusMetrics({ registry }), createOtelMetrics({ meter })]);
 */
export function combineMetrics(recorders: readonly Partial<ProxyMetrics>[], onError: MetricsErrorHandler = warnOnce()): ProxyMetrics {
  if (!Array.isArray(recorders) || !recorders.every((r) => typeof r === 'object' && r !== null)) {
    throw new InvalidOptionError('metrics', 'must be an array of metrics recorders (objects with ProxyMetrics methods)');
  }
  if (typeof onError !== 'function') throw new InvalidOptionError('onError', 'must be a function');
  const combined = {} as Record<MetricsMethod, (...args: unknown[]) => void>;
  for (const method of METHODS) {
    // Bound once here, so a call does no lookups beyond the loop.
    const targets = recorders
      .map((recorder, index) => ({ recorder, index, fn: recorder[method] as ((...args: unknown[]) => void) | undefined }))
      .filter((t): t is { recorder: Partial<ProxyMetrics>; index: number; fn: (...args: unknown[]) => void } => typeof t.fn === 'function');
    combined[method] = (...args: unknown[]): void => {
      for (const { recorder, index, fn } of targets) {
        try {
          fn.apply(recorder, args);
        } catch (error) {
          try {
            onError(error, method, index);
          } catch {
            // the error handler failing must not reach the request either
          }
        }
      }
    };
  }
  return combined as unknown as ProxyMetrics;
}
