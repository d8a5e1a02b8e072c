/**
 * Circuit breakers per provider+model. After `failureThreshold` consecutive failures a pair is
 * open (skipped) for a cooldown; then one request is let through (half-open): success closes the
 * breaker, failure opens it again with the cooldown doubled, up to `maxCooldownMs`.
 *
 * Every change of a pair goes through `nextPairState`, a pure function, applied through the
 * store's records (`breaker` namespace): reads come from the local mirror, changes are applied
 * locally at once and shared with the other instances (the Redis store), which see them within 1 s.
 */
import { MemoryStore } from '../state/memory-store.js';
import type { SharedRecords, StateStore } from '../state/types.js';

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
  /**
   * While probing: when the probe is given up (one cooldown after it started), so a probe whose
   * instance went away does not hold the pair for ever.
   */
  probeUntil?: number;
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
      // Only the attempt that finds the cooldown over (and no live probe) becomes the probe.
      if (!state || state.openUntil === 0 || state.openUntil > now || probeLive(state, now)) return state;
      return { ...state, probing: true, probeUntil: now + state.cooldownMs };
    case 'release':
      return state?.probing ? withoutProbe(state) : state;
    case 'failure': {
      const current = state ?? { failures: 0, cooldownMs: options.cooldownMs, openUntil: 0, probing: false };
      if (current.probing || (current.openUntil !== 0 && current.openUntil <= now)) {
        // The half-open probe failed: open again for twice as long.
        const cooldownMs = Math.min(current.cooldownMs * 2, options.maxCooldownMs);
        return { ...withoutProbe(current), cooldownMs, openUntil: now + cooldownMs };
      }
      const failures = current.failures + 1;
      const opens = failures >= options.failureThreshold && current.openUntil === 0;
      return { ...current, failures, openUntil: opens ? now + current.cooldownMs : current.openUntil };
    }
  }
}

/** A probe is in flight and not past its deadline. */
function probeLive(state: PairState, now: number): boolean {
  return state.probing && (state.probeUntil === undefined || state.probeUntil > now);
}

function withoutProbe<T extends PairState>(state: T): T {
  const next = { ...state, probing: false };
  delete next.probeUntil;
  return next;
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

/** A pair's record: its state and whom it belongs to (for reports, here and on other instances). */
type StoredPair = PairState & { providerId: string | number; model: string };

export type BreakerStateListener = (providerId: string | number, model: string, state: BreakerStateName) => void;

export class CircuitBreakers {
  readonly #pairs: SharedRecords<StoredPair>;
  readonly #store: StateStore;
  /** Pairs whose half-open probe lock this instance holds. */
  readonly #probeLocks = new Set<string>();
  /**
   * The state name last told to `onStateChange`, per pair, with the pair's ids (absent: closed).
   * Compared with the state now, not with the previous value: a cooldown that ran out made the
   * pair half-open with no event of its own, and the probe that follows must still say so.
   */
  readonly #reported = new Map<string, { name: BreakerStateName; providerId: string | number; model: string }>();
  readonly #unsubscribe: () => void;

  constructor(
    private readonly options: BreakerOptions,
    private readonly now: () => number = Date.now,
    /** Told of every change of state name (closed, open, half-open), here or on another instance, for metrics. */
    private readonly onStateChange?: BreakerStateListener,
    /** Where the pairs live; the router passes its `store` option. Default: this process only. */
    store: StateStore = new MemoryStore(),
  ) {
    this.#store = store;
    this.#pairs = store.records<StoredPair>('breaker');
    this.#unsubscribe = onStateChange ? this.#pairs.onChange((key, value) => this.#changed(key, value, this.now())) : () => undefined;
  }

  /**
   * 0 when the pair may be used now; otherwise a sort key, the sooner the smaller: the end of
   * its cooldown, or just after now while a half-open probe is in flight.
   */
  availableAt(providerId: string | number, model: string): number {
    const pair = this.#pairs.get(pairKey(providerId, model));
    if (!pair || pair.openUntil === 0) return 0;
    const now = this.now();
    if (pair.openUntil > now) return pair.openUntil;
    return probeLive(pair, now) ? now + 1 : 0;
  }

  /**
   * Applies `event` to the pair; true when its state changed. For `attempt`, true means this
   * request is the half-open probe; with a shared store that is a promise, resolved once the
   * probe is claimed across instances (false: another instance took it first; the pair then
   * stays marked as probing here, and the request should go elsewhere).
   */
  record(providerId: string | number, model: string, event: BreakerEvent): boolean | Promise<boolean> {
    const key = pairKey(providerId, model);
    const before = this.#pairs.get(key);
    if (event !== 'attempt' && this.#probeLocks.size > 0 && this.#probeLocks.delete(key)) this.#store.releaseLock(probeLock(key));
    if (!before && event !== 'failure') return false;
    const now = this.now();
    const { options } = this;
    if (nextPairState(before, event, options, now) === before) return false;
    // Runs again on another instance's newer value when the shared store reports a conflict.
    void this.#pairs.update(key, (current) => {
      const next = nextPairState(current, event, options, now);
      if (next === current) return current;
      return next && { ...next, providerId, model };
    });
    if (this.onStateChange) this.#changed(key, this.#pairs.get(key), now);
    if (event !== 'attempt' || !this.#store.shared) return true;
    return this.#claimProbe(key, before!.cooldownMs);
  }

  report(): BreakerReport[] {
    const now = this.now();
    return [...this.#pairs.entries()].map(([, pair]) => {
      const report: BreakerReport = { provider_id: pair.providerId, model: pair.model, state: stateName(pair, now), consecutive_failures: pair.failures };
      if (pair.openUntil !== 0) report.open_until = new Date(pair.openUntil).toISOString();
      return report;
    });
  }

  /** Stops listening to other instances' changes (the router's `close()`). */
  close(): void {
    this.#unsubscribe();
  }

  /** One probe across instances: a lock that expires after one cooldown, like the probe's deadline. */
  async #claimProbe(key: string, ttlMs: number): Promise<boolean> {
    let won: boolean;
    try {
      won = await this.#store.tryLock(probeLock(key), ttlMs);
    } catch {
      won = true; // a store that cannot answer is treated as having no other instance
    }
    if (won) this.#probeLocks.add(key);
    return won;
  }

  /** Tells the listener when the pair's state name changed, here or through another instance. */
  #changed(key: string, after: StoredPair | undefined, now: number): void {
    const name = stateName(after, now);
    const last = this.#reported.get(key);
    if (name === (last?.name ?? 'closed')) return;
    // A pair gone from the store is closed, and was reported otherwise: `last` names it.
    const { providerId, model } = after ?? last!;
    if (name === 'closed') this.#reported.delete(key);
    else this.#reported.set(key, { name, providerId, model });
    this.onStateChange!(providerId, model, name);
  }
}

const probeLock = (key: string): string => `breaker-probe:${key}`;
