/**
 * The standalone health service: probes mapped models with bounded concurrency and reports per
 * model and per provider. No Express here, so scripts and cron jobs can use it directly.
 */
import pLimit from 'p-limit';
import type { LimitFunction } from 'p-limit';
import { DEFAULT_HEALTH, DEFAULT_REGISTRY_TIMEOUT_MS } from '../defaults.js';
import { InvalidOptionError } from '../errors/errors.js';
import { positiveInteger, positiveMs } from '../util/option-checks.js';
import { createFetchTransport } from '../transport/fetch-transport.js';
import type { FetchLike, UpstreamTransport } from '../transport/types.js';
import { createUndiciTransport } from '../transport/undici-transport.js';
import type { Logger, LogSink } from '../logging/logger.js';
import { toLogSink } from '../logging/logger.js';
import type { ProviderIndex } from '../registry/provider-index.js';
import { createIndexSource } from '../registry/provider-index.js';
import type { ProviderConfig, ProviderRegistry, ResolvedModel, ResolvedProvider } from '../registry/types.js';
import { HealthCheckError, providerNotFound } from './errors.js';
import { probeModel } from './probe.js';
import { checkReport, providerReport } from './report.js';
import type { CheckOptions, CheckProvidersOptions, HealthCheckReport, ProviderHealthReport } from './types.js';


export interface HealthCheckServiceOptions {
  /** Provider configs, or a registry whose `list()` returns them, as for the router. Required. */
  providers: readonly ProviderConfig[] | ProviderRegistry;
  /** Any WHATWG fetch-compatible function. Default: undici's dispatcher on a keep-alive pool. */
  fetch?: FetchLike;
  /** A winston or pino logger, `console`, or any object with `info`/`warn`/`error` (see `Logger`); one entry per provider checked. Default: none. */
  logger?: Logger | undefined;
  /** Called with every provider report as it completes, e.g. to steer routing. Errors it throws are ignored. */
  onReport?: (report: ProviderHealthReport) => void;
  /** How long a registry's `list()` may take before a check rejects (code `provider_registry_unavailable`). Default 10000 ms. */
  registryTimeoutMs?: number;
  /** @internal The router shares its own transport; wins over `fetch`, and `close()` leaves it open. */
  transport?: UpstreamTransport;
  /** @internal The router shares its own index source (and so its last good registry list); wins over `providers`. */
  index?: () => ProviderIndex | Promise<ProviderIndex>;
}

type Plan = { provider: ResolvedProvider; models: [string, ResolvedModel][] };

function list<T>(value: unknown, option: string, item: (v: unknown) => v is T, expected: string): T[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || !value.every(item)) {
    throw new InvalidOptionError(option, `must be an array of ${expected}, or null`);
  }
  return [...new Set(value)]; // asked twice, probed once
}

const isName = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isId = (v: unknown): v is string | number => isName(v) || (typeof v === 'number' && Number.isFinite(v));

/** The models to probe, in the order asked (or the mapping's); `strict` rejects unmapped names. */
function planFor(provider: ResolvedProvider, models: string[] | undefined, strict: boolean): Plan {
  if (models === undefined) {
    return { provider, models: provider.enabled ? [...provider.models] : [] };
  }
  const picked: [string, ResolvedModel][] = [];
  for (const name of models) {
    const mapping = provider.models.get(name);
    if (mapping) picked.push([name, mapping]);
    else if (strict) {
      throw new HealthCheckError('model_not_mapped', 'models', `Model ${JSON.stringify(name)} is not mapped by provider ${JSON.stringify(provider.id)}`);
    }
  }
  return { provider, models: provider.enabled ? picked : [] };
}

/**
 * Probes providers' models with a real, minimal request each and reports status, latency and
 * errors. Call `close()` when done if you did not pass `fetch`: it closes the default socket pool.
 *
 * @example
 * import { HealthCheckService } from 'express-llm-proxy/health';
 * const health = new HealthCheckService({ providers });
 * const report = await health.checkProviders({ maxConcurrent: 4, timeoutMs: 10_000 });
 * await health.close();
 */
export class HealthCheckService {
  readonly #index: () => ProviderIndex | Promise<ProviderIndex>;
  readonly #transport: UpstreamTransport;
  readonly #close: () => Promise<void>;
  readonly #logger: LogSink | undefined;
  readonly #onReport: ((report: ProviderHealthReport) => void) | undefined;

  constructor(options: HealthCheckServiceOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new InvalidOptionError('options', 'must be an object: new HealthCheckService({ providers })');
    }
    if (options.providers === undefined) {
      throw new InvalidOptionError('providers', 'is required: an array of provider configs or an object with a list() method');
    }
    if (options.fetch !== undefined && typeof options.fetch !== 'function') {
      throw new InvalidOptionError('fetch', 'must be a fetch-compatible function (url, init) => Promise<Response>');
    }
    this.#logger = options.logger === undefined ? undefined : toLogSink(options.logger, 'logger');
    const timeoutMs = positiveMs(options.registryTimeoutMs, 'registryTimeoutMs', DEFAULT_REGISTRY_TIMEOUT_MS);
    this.#index = options.index ?? createIndexSource(options.providers, 'providers', { timeoutMs, logger: this.#logger });
    if (options.onReport !== undefined && typeof options.onReport !== 'function') {
      throw new InvalidOptionError('onReport', 'must be a function (report) => void');
    }
    this.#onReport = options.onReport;
    if (options.transport !== undefined) {
      this.#transport = options.transport;
      this.#close = async () => {};
    } else if (options.fetch !== undefined) {
      this.#transport = createFetchTransport(options.fetch);
      this.#close = async () => {};
    } else {
      const own = createUndiciTransport();
      this.#transport = own;
      this.#close = () => own.close();
    }
  }

  /**
   * Checks one provider. Rejects with a `HealthCheckError` (`provider_not_found`, or
   * `model_not_mapped` for a model in `models` the provider does not map).
   */
  async checkProvider(id: string | number, options: CheckOptions = {}): Promise<ProviderHealthReport> {
    const { limit, timeoutMs } = this.#settings(options);
    const models = list(options.models, 'models', isName, 'model names');
    const provider = (await this.#index()).byId(id);
    if (!provider) throw providerNotFound(id, 'id');
    return this.#run(planFor(provider, models, true), limit, timeoutMs);
  }

  /**
   * Checks several providers (default: every enabled one) under one concurrency limit. With
   * `models`, each provider probes the listed models it maps; a model none of them maps is a
   * `model_not_mapped` error.
   */
  async checkProviders(options: CheckProvidersOptions = {}): Promise<HealthCheckReport> {
    const { limit, timeoutMs } = this.#settings(options);
    const models = list(options.models, 'models', isName, 'model names');
    const ids = list(options.providerIds, 'providerIds', isId, 'provider ids');
    const index = await this.#index();
    const providers = new Set<ResolvedProvider>(); // a Set, since `1` and `"1"` name the same provider
    for (const id of ids ?? []) {
      const provider = index.byId(id);
      if (!provider) throw providerNotFound(id, 'providerIds');
      providers.add(provider);
    }
    const unique = ids ? [...providers] : index.providers.filter((p) => p.enabled);
    const plans = unique.map((provider) => planFor(provider, models, false));
    const unmapped = models?.find((name) => !unique.some((p) => p.models.has(name)));
    if (unmapped !== undefined) {
      throw new HealthCheckError('model_not_mapped', 'models', `Model ${JSON.stringify(unmapped)} is not mapped by any of the providers checked`);
    }
    return checkReport(await Promise.all(plans.map((plan) => this.#run(plan, limit, timeoutMs))));
  }

  /** Closes the sockets of the default transport (not a `fetch` you passed in). */
  async close(): Promise<void> {
    await this.#close();
  }

  #settings(options: CheckOptions): { limit: LimitFunction; timeoutMs: number } {
    if (typeof options !== 'object' || options === null) {
      throw new InvalidOptionError('options', 'must be an object');
    }
    // One limiter per call: the bound holds across every model and provider of the call.
    const limit = pLimit(positiveInteger(options.maxConcurrent ?? undefined, 'maxConcurrent', DEFAULT_HEALTH.maxConcurrent));
    return { limit, timeoutMs: positiveMs(options.timeoutMs ?? undefined, 'timeoutMs', DEFAULT_HEALTH.timeoutMs) };
  }

  async #run(plan: Plan, limit: LimitFunction, timeoutMs: number): Promise<ProviderHealthReport> {
    const { provider } = plan;
    const models = await Promise.all(plan.models.map(([name, mapping]) => limit(() => probeModel(this.#transport, provider, name, mapping, timeoutMs))));
    const report = providerReport(provider, models);
    this.#log(report);
    try {
      this.#onReport?.(report);
    } catch {
      // A listener that throws must not fail the check.
    }
    return report;
  }

  #log(report: ProviderHealthReport): void {
    if (!this.#logger) return;
    const failing = report.status === 'degraded' || report.status === 'unhealthy';
    const failures = report.models.filter((m) => m.status === 'unhealthy').map((m) => ({ model: m.model, error: m.error }));
    try {
      this.#logger.log(failing ? 'warn' : 'info', `health check ${report.provider_key}: ${report.status}`, {
        provider: report.provider_key,
        status: report.status,
        ...report.summary,
        ...(failures.length > 0 ? { failures } : {}),
      });
    } catch {
      // A logger that throws must not fail the check.
    }
  }
}
