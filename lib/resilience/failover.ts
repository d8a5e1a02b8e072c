/**
 * Failover as a policy. It picks the provider for each attempt (weighted among usable ones), and
 * after each attempt's outcome decides: deliver it, switch to another provider at once, or wait
 * and try the same provider again. It keeps the breakers and health marks up to date on the way;
 * the proxy handler only acts on its decisions.
 */
import type { ErrorKind } from '../errors/classify.js';
import type { ResolvedProvider } from '../registry/types.js';
import type { WeightedRoundRobin } from '../registry/weighted-round-robin.js';
import type { CircuitBreakers } from './breaker.js';
import type { HealthMarks } from './health-marks.js';
import type { RetryOptions } from './retry.js';
import { backoffMs, isProviderFailure, retryAfterMs } from './retry.js';

/** How an attempt ended, as far as the client has not seen it yet. */
export type AttemptOutcome = { type: 'error'; kind: ErrorKind } | { type: 'answer'; status: number; retryAfter?: string | string[] | undefined };

export type Decision = { action: 'deliver' } | { action: 'switch'; provider: ResolvedProvider } | { action: 'wait'; ms: number };

/** One request's failover state. */
export interface FailoverState {
  readonly model: string;
  readonly candidates: readonly ResolvedProvider[];
  /** The provider of the current (or next) attempt. */
  provider: ResolvedProvider;
  readonly tried: Set<ResolvedProvider>;
  /** Set while this request holds a half-open breaker's only probe. */
  probe: ResolvedProvider | undefined;
}

export interface FailoverDeps {
  retry: RetryOptions;
  breakers: CircuitBreakers;
  health: HealthMarks;
  selector: WeightedRoundRobin;
  random?: () => number;
  now?: () => number;
}

export class FailoverPolicy {
  constructor(private readonly deps: FailoverDeps) {}

  /** The request's state with its first provider, or undefined when no provider serves the model. */
  start(model: string, candidates: readonly ResolvedProvider[]): FailoverState | undefined {
    const provider = this.#choose(model, candidates);
    return provider && { model, candidates, provider, tried: new Set(), probe: undefined };
  }

  /**
   * Call before an attempt is sent to `state.provider`. Synchronous (undefined) but for one case:
   * the attempt would be a half-open probe and the store is shared, so the probe must be claimed
   * across instances first; await the promise, then read `state.provider` (a lost claim moves
   * the request to another provider, as a probe in flight on this instance would).
   */
  attempting(state: FailoverState): Promise<void> | undefined {
    const { provider } = state;
    const probe = this.deps.breakers.record(provider.id, state.model, 'attempt');
    if (probe === false || probe === true) {
      this.#sending(state, provider, probe);
      return undefined;
    }
    return this.#claimed(state, provider, probe);
  }

  async #claimed(state: FailoverState, provider: ResolvedProvider, claim: Promise<boolean>): Promise<void> {
    if (await claim) {
      this.#sending(state, provider, true);
      return;
    }
    // Another instance probes this pair; it is marked as probing here now, so choosing again
    // treats it as this instance's own probe in flight. Each pair can be lost once: this ends.
    const next = this.#choose(state.model, state.candidates, undefined, state.tried);
    if (!next || next === provider) {
      this.#sending(state, provider, false); // nothing better: sent, not as the probe
      return;
    }
    state.provider = next;
    await this.attempting(state);
  }

  #sending(state: FailoverState, provider: ResolvedProvider, probe: boolean): void {
    state.tried.add(provider);
    if (probe) state.probe = provider;
  }

  /** Books the outcome of the attempt numbered `attempt` (1-based) and says what to do next. */
  decide(outcome: AttemptOutcome, attempt: number, state: FailoverState): Decision {
    const { retry } = this.deps;
    const status = outcome.type === 'answer' ? outcome.status : undefined;
    const networkFailure = outcome.type === 'error' && (outcome.kind === 'connection' || outcome.kind === 'timeout');
    if (networkFailure || (status !== undefined && isProviderFailure(status))) this.settle(state, 'failure');
    else if (status !== undefined) this.settle(state, 'success');
    else this.finish(state); // a request error says nothing about the provider

    const retryable = networkFailure || (status !== undefined && retry.onStatus.includes(status));
    if (!retryable || attempt >= retry.maxAttempts) return { action: 'deliver' };
    const next = this.#choose(state.model, state.candidates, state.provider, state.tried);
    if (next) {
      state.provider = next; // another provider: at once, no delay
      return { action: 'switch', provider: next };
    }
    const wait = this.#sameProviderWait(outcome, attempt);
    return wait === undefined ? { action: 'deliver' } : { action: 'wait', ms: wait };
  }

  /** Books an attempt whose outcome came later (a stream that ended). */
  settle(state: FailoverState, result: 'success' | 'failure'): void {
    const { provider, model } = state;
    this.deps.breakers.record(provider.id, model, result);
    if (result === 'success') this.deps.health.mark(provider.id, model, true);
    if (state.probe === provider) state.probe = undefined;
  }

  /** The request is over: a probe it still holds (it ended as neither success nor failure) is released. */
  finish(state: FailoverState): void {
    if (state.probe) this.deps.breakers.record(state.probe.id, state.model, 'release');
    state.probe = undefined;
  }

  /** Weighted among the usable candidates, never `previous` again, untried ones first. */
  #choose(model: string, candidates: readonly ResolvedProvider[], previous?: ResolvedProvider, tried?: ReadonlySet<ResolvedProvider>): ResolvedProvider | undefined {
    let pool = previous ? candidates.filter((provider) => provider !== previous) : candidates;
    const untried = tried?.size ? pool.filter((provider) => !tried.has(provider)) : pool;
    if (untried.length > 0) pool = untried;
    if (pool.length === 0) return undefined;
    const { breakers, health, selector } = this.deps;
    const waitFor = (provider: ResolvedProvider): number => (health.isUnhealthy(provider.id, model) ? Number.MAX_SAFE_INTEGER : breakers.availableAt(provider.id, model));
    // The common case, every candidate usable, builds no filtered list.
    let usable: readonly ResolvedProvider[] = pool;
    for (let i = 0; i < pool.length; i++) {
      if (waitFor(pool[i]) !== 0) {
        usable = pool.filter((provider) => waitFor(provider) === 0);
        break;
      }
    }
    if (usable.length > 0) return selector.pick(model, usable);
    // Everything is cooling down or marked unhealthy: try the one that recovers soonest.
    let soonest = pool[0];
    for (const provider of pool) {
      if (waitFor(provider) < waitFor(soonest)) soonest = provider;
    }
    return soonest;
  }

  /** How long to wait before retrying the same provider, or undefined when that is not to be done. */
  #sameProviderWait(outcome: AttemptOutcome, attempt: number): number | undefined {
    const { retry, random, now } = this.deps;
    if (!retry.sameProvider) return undefined;
    const asked = outcome.type === 'answer' ? retryAfterMs(outcome.retryAfter, now?.()) : undefined;
    const wait = asked ?? backoffMs(attempt, retry, random);
    return wait > retry.maxDelayMs ? undefined : wait;
  }
}
