/**
 * The state that several router instances share: records (breaker and health state), locks, the
 * response-id → provider affinity map, and rate-limit counters. `MemoryStore` keeps it all in the
 * process; the Redis store (`express-llm-proxy/redis`) shares it. Reads the request path makes are
 * synchronous and local: no implementation lets a request wait on the network for state it can
 * hold itself. Only `hit`, `tryLock` and `recallRemote` are awaited, each with a timeout.
 */

/**
 * A pure change of one record: the current value (undefined when there is none) in, the next out;
 * undefined deletes. It may run more than once (again with another instance's newer value), so it
 * must not have side effects. Returning `current` itself means "no change": nothing is written.
 */
export type RecordUpdate<T> = (current: T | undefined) => T | undefined;

/** One namespace of shared records (e.g. `breaker`, `health`), with a local mirror. */
export interface SharedRecords<T> {
  /** The local mirror's value: synchronous, never waits on the network. */
  get(key: string): T | undefined;
  /** Every record of the local mirror. */
  entries(): IterableIterator<[string, T]>;
  readonly size: number;
  /**
   * Applies `fn` to the local copy at once (before returning), then to the shared copy atomically.
   * The promise resolves with the value the shared store committed, or with the local value when
   * the shared store is unavailable (the update is then replayed on reconnect); it never rejects.
   * If `fn` throws on the local copy, `update` throws and nothing changes.
   */
  update(key: string, fn: RecordUpdate<T>): Promise<T | undefined>;
  /** `update(key, () => undefined)`. */
  delete(key: string): Promise<void>;
  /**
   * Called when another instance changed a record, after the mirror holds the new value (the
   * value passed: this instance's pending updates applied over it). Changes arrive by pub/sub,
   * within 1 s (the documented bound; milliseconds in practice), and by the resync after a
   * reconnect, which also reports records first seen. Not called for this instance's own updates.
   * Returns an unsubscribe.
   */
  onChange(listener: (key: string, value: T | undefined) => void): () => void;
}

/** Limits over a sliding 60 s window; an absent limit is not counted. */
export interface RateLimits {
  requestsPerMinute?: number | undefined;
  tokensPerMinute?: number | undefined;
}

export interface RateLimitUsage {
  limit: number;
  /** Requests: left after this one. Tokens: limit minus the tokens charged in the window (>= 0). */
  remaining: number;
  /**
   * Milliseconds until the window frees capacity: when exhausted, until a request would be admitted
   * again; otherwise until the oldest counted entry leaves the window (0 when nothing is counted).
   */
  resetMs: number;
}

export type RateLimitDecision =
  | { unavailable?: false; allowed: boolean; requests?: RateLimitUsage; tokens?: RateLimitUsage }
  /** The shared counter could not be reached in time: the caller fails open or closed. */
  | { unavailable: true; allowed?: undefined; requests?: undefined; tokens?: undefined };

export interface StateStore {
  /**
   * True when other router instances see this store's state (the Redis store). A breaker's
   * half-open probe is then claimed with `tryLock`, so that one instance probes, not each; a
   * store only this process sees needs no claim (its local transition is the whole truth).
   */
  readonly shared?: boolean;
  /** The namespace's records; the same object for the same name. Values must be JSON-serialisable. */
  records<T>(namespace: string): SharedRecords<T>;
  /**
   * True for exactly one caller across instances until `ttlMs` passes or the holder releases it.
   * Resolves false rather than rejecting; with shared state unavailable it falls back to a local lock.
   */
  tryLock(name: string, ttlMs: number): Promise<boolean>;
  /** Releases a lock this instance holds (fire-and-forget); a lock someone else took is left alone. */
  releaseLock(name: string): void;
  /** Remembers which provider answered a response id (fire-and-forget), here and for other instances. */
  remember(responseId: string, providerKey: string, ttlMs: number): void;
  /** The local copy only: synchronous. */
  recall(responseId: string): string | undefined;
  /** Asks the shared copy (once, on a local miss); undefined when unknown or unavailable in time. */
  recallRemote(responseId: string): Promise<string | undefined>;
  /**
   * Counts one request against `key` if admitted: admitted while the requests in the window are
   * under `requestsPerMinute` and the tokens charged in the window are under `tokensPerMinute`.
   * `now` (ms since the epoch) is injectable for tests; it must not run backwards for a key.
   */
  hit(key: string, limits: RateLimits, now?: number): Promise<RateLimitDecision>;
  /** Adds the tokens an answer used to `key`'s window (fire-and-forget). */
  charge(key: string, tokens: number, now?: number): void;
  /** Stops what the store started (timers, its own connections); a host's client stays open. */
  close(): Promise<void>;
}

/** The sliding window every rate limit counts over. */
export const RATE_WINDOW_MS = 60_000;
