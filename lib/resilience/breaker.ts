/**
 * Per provider+model circuit breakers, plus the health marks that steer routing. A pair is
 * skipped while its breaker is open or a fresh health check called it unhealthy; after the
 * cooldown one request is let through (half-open): success closes the breaker, failure opens it
 * again with the cooldown doubled, up to `maxCooldownMs`.
 */

export interface BreakerOptions {
  /** Consecutive failures (connection, timeout, 5xx, 429) that open the breaker. Default 3. */
  failureThreshold: number;
  /** First cooldown. Default 30000 ms. */
  cooldownMs: number;
  /** Longest cooldown after repeated failed probes. Default 300000 ms. */
  maxCooldownMs: number;
  /** Health marks older than this are ignored. Default 600000 ms. */
  healthStaleMs: number;
}

export type BreakerStateName = 'closed' | 'open' | 'half_open';

interface PairState {
  failures: number;
  cooldownMs: number;
  /** `Date.now()` until which the pair is skipped (open), 0 when closed. */
  openUntil: number;
  probing: boolean;
  unhealthySince: number | undefined;
}

export interface PairReport {
  provider_id: string | number;
  model: string;
  state: BreakerStateName;
  consecutive_failures: number;
  open_until?: string;
  unhealthy_since?: string;
}

export class CircuitBreakers {
  readonly #pairs = new Map<string, PairState & { providerId: string | number; model: string }>();

  constructor(private readonly options: BreakerOptions, private readonly now: () => number = Date.now) {}

  #pair(providerId: string | number, model: string) {
    const id = `${String(providerId)}\u0000${model}`;
    let pair = this.#pairs.get(id);
    if (!pair) {
      pair = { providerId, model, failures: 0, cooldownMs: this.options.cooldownMs, openUntil: 0, probing: false, unhealthySince: undefined };
      this.#pairs.set(id, pair);
    }
    return pair;
  }

  #peek(providerId: string | number, model: string) {
    if (this.#pairs.size === 0) return undefined; // the common case: nothing ever failed
    return this.#pairs.get(`${String(providerId)}\u0000${model}`);
  }

  #unhealthy(pair: PairState): boolean {
    return pair.unhealthySince !== undefined && this.now() - pair.unhealthySince < this.options.healthStaleMs;
  }

  /**
   * 0 when the pair may be used now; otherwise a sort key, the sooner the smaller: the end of
   * its cooldown, or far in the future for a fresh unhealthy mark.
   */
  availableAt(providerId: string | number, model: string): number {
    const pair = this.#peek(providerId, model);
    if (!pair) return 0;
    if (this.#unhealthy(pair)) return Number.MAX_SAFE_INTEGER;
    if (pair.openUntil === 0) return 0;
    const now = this.now();
    if (pair.openUntil > now) return pair.openUntil;
    return pair.probing ? now + 1 : 0; // half-open: one probe at a time
  }

  /** Call when a request is sent to the pair, so a half-open breaker lets only one through. */
  onAttempt(providerId: string | number, model: string): void {
    const pair = this.#peek(providerId, model);
    if (pair && pair.openUntil !== 0 && pair.openUntil <= this.now()) {
      pair.probing = true;
    }
  }

  /** Ends a half-open probe that was neither a success nor a failure (the client left, a request error). */
  releaseProbe(providerId: string | number, model: string): void {
    const pair = this.#peek(providerId, model);
    if (pair) pair.probing = false;
  }

  recordSuccess(providerId: string | number, model: string): void {
    const pair = this.#peek(providerId, model);
    if (!pair) return;
    pair.failures = 0;
    pair.openUntil = 0;
    pair.probing = false;
    pair.cooldownMs = this.options.cooldownMs;
    pair.unhealthySince = undefined;
  }

  recordFailure(providerId: string | number, model: string): void {
    const pair = this.#pair(providerId, model);
    const now = this.now();
    if (pair.probing || (pair.openUntil !== 0 && pair.openUntil <= now)) {
      // The half-open probe failed: open again for twice as long.
      pair.cooldownMs = Math.min(pair.cooldownMs * 2, this.options.maxCooldownMs);
      pair.openUntil = now + pair.cooldownMs;
      pair.probing = false;
      return;
    }
    pair.failures += 1;
    if (pair.failures >= this.options.failureThreshold && pair.openUntil === 0) {
      pair.openUntil = now + pair.cooldownMs;
    }
  }

  /** Applies a health-check result: unhealthy pairs are skipped until a later check or a success. */
  markHealth(providerId: string | number, model: string, healthy: boolean): void {
    if (healthy) {
      const pair = this.#peek(providerId, model);
      if (pair) pair.unhealthySince = undefined;
      return;
    }
    this.#pair(providerId, model).unhealthySince = this.now();
  }

  report(): PairReport[] {
    const now = this.now();
    return [...this.#pairs.values()].map((pair) => {
      const state: BreakerStateName = pair.openUntil === 0 ? 'closed' : pair.openUntil > now ? 'open' : 'half_open';
      const report: PairReport = { provider_id: pair.providerId, model: pair.model, state, consecutive_failures: pair.failures };
      if (pair.openUntil !== 0) report.open_until = new Date(pair.openUntil).toISOString();
      if (this.#unhealthy(pair)) report.unhealthy_since = new Date(pair.unhealthySince!).toISOString();
      return report;
    });
  }
}
