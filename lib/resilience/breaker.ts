/**
 * Circuit breakers per provider+model. After `failureThreshold` consecutive failures a pair is
 * open (skipped) for a cooldown; then one request is let through (half-open): success closes the
 * breaker, failure opens it again with the cooldown doubled, up to `maxCooldownMs`.
 *
 * Every change of a pair goes through `nextPairState`, a pure function, so the state can live in
 * any store that applies such a function atomically (a local map here; a shared one elsewhere).
 */

export interface BreakerOptions {
  /** Consecutive failures (connection, timeout, 5xx, 429) that open the breaker. Default 3. */
  failureThreshold: number;
  /** First cooldown. Default 30000 ms. */
  cooldownMs: number;
  /** Longest cooldown after repeated failed probes. Default 300000 ms. */
  maxCooldownMs: number;
}

export type BreakerStateName = 'closed' | 'open' | 'half_open';

export interface PairState {
  failures: number;
  cooldownMs: number;
  /** `now()` until which the pair is skipped (open); 0 when closed. */
  openUntil: number;
  /** A half-open probe is in flight. */
  probing: boolean;
}

/** `attempt`: a request was sent; `release`: it ended as neither success nor failure. */
export type BreakerEvent = 'attempt' | 'success' | 'failure' | 'release';

/** The pair's state after `event`; undefined for a pair that never failed. */
export function nextPairState(state: PairState | undefined, event: BreakerEvent, options: BreakerOptions, now: number): PairState | undefined {
  switch (event) {
    case 'success':
      // A pair that failed before stays listed, closed; one already closed and clear is unchanged.
      if (!state || (state.failures === 0 && state.openUntil === 0 && !state.probing)) return state;
      return { failures: 0, cooldownMs: options.cooldownMs, openUntil: 0, probing: false };
    case 'attempt':
      // Only the attempt that finds the cooldown over becomes the probe.
      return state && state.openUntil !== 0 && state.openUntil <= now && !state.probing ? { ...state, probing: true } : state;
    case 'release':
      return state?.probing ? { ...state, probing: false } : state;
    case 'failure': {
      const current = state ?? { failures: 0, cooldownMs: options.cooldownMs, openUntil: 0, probing: false };
      if (current.probing || (current.openUntil !== 0 && current.openUntil <= now)) {
        // The half-open probe failed: open again for twice as long.
        const cooldownMs = Math.min(current.cooldownMs * 2, options.maxCooldownMs);
        return { ...current, cooldownMs, openUntil: now + cooldownMs, probing: false };
      }
      const failures = current.failures + 1;
      const opens = failures >= options.failureThreshold && current.openUntil === 0;
      return { ...current, failures, openUntil: opens ? now + current.cooldownMs : current.openUntil };
    }
  }
}

export function stateName(pair: PairState | undefined, now: number): BreakerStateName {
  if (!pair || pair.openUntil === 0) return 'closed';
  return pair.openUntil > now ? 'open' : 'half_open';
}

export interface BreakerReport {
  provider_id: string | number;
  model: string;
  state: BreakerStateName;
  consecutive_failures: number;
  open_until?: string;
}

const pairKey = (providerId: string | number, model: string): string => `${String(providerId)}\u0000${model}`;

export class CircuitBreakers {
  readonly #pairs = new Map<string, PairState & { providerId: string | number; model: string }>();

  constructor(
    private readonly options: BreakerOptions,
    private readonly now: () => number = Date.now,
    /** Told of every change of state name (closed, open, half-open), for metrics. */
    private readonly onStateChange?: (providerId: string | number, model: string, state: BreakerStateName) => void,
  ) {}

  /**
   * 0 when the pair may be used now; otherwise a sort key, the sooner the smaller: the end of
   * its cooldown, or just after now while a half-open probe is in flight.
   */
  availableAt(providerId: string | number, model: string): number {
    if (this.#pairs.size === 0) return 0; // the common case: nothing ever failed
    const pair = this.#pairs.get(pairKey(providerId, model));
    if (!pair || pair.openUntil === 0) return 0;
    const now = this.now();
    if (pair.openUntil > now) return pair.openUntil;
    return pair.probing ? now + 1 : 0;
  }

  /** Applies `event` to the pair; true when its state changed (for `attempt`: this request is the half-open probe). */
  record(providerId: string | number, model: string, event: BreakerEvent): boolean {
    const key = pairKey(providerId, model);
    const before = this.#pairs.get(key);
    if (!before && event !== 'failure') return false;
    const now = this.now();
    const after = nextPairState(before, event, this.options, now);
    if (after === before) return false;
    if (after) this.#pairs.set(key, { ...after, providerId, model });
    else this.#pairs.delete(key);
    if (this.onStateChange) {
      const name = stateName(after, now);
      if (name !== stateName(before, now)) this.onStateChange(providerId, model, name);
    }
    return true;
  }

  report(): BreakerReport[] {
    const now = this.now();
    return [...this.#pairs.values()].map((pair) => {
      const report: BreakerReport = { provider_id: pair.providerId, model: pair.model, state: stateName(pair, now), consecutive_failures: pair.failures };
      if (pair.openUntil !== 0) report.open_until = new Date(pair.openUntil).toISOString();
      return report;
    });
  }
}
