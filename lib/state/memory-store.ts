/**
 * The in-process `StateStore`: today's behaviour, everything local to one router instance. Exact
 * for one process; several instances behind a load balancer need the Redis store instead.
 */
import { InvalidOptionError } from '../errors/errors.js';
import { positiveInteger } from '../util/option-checks.js';
import { AffinityCache, DEFAULT_MAX_AFFINITY_ENTRIES } from './affinity-cache.js';
import { LocalLocks } from './local-locks.js';
import { MemoryRecords } from './memory-records.js';
import { SlidingWindows } from './sliding-window.js';
import type { RateLimitDecision, RateLimits, SharedRecords, StateStore } from './types.js';

export { DEFAULT_MAX_AFFINITY_ENTRIES };

export interface MemoryStoreOptions {
  /** Most response ids remembered; the oldest is forgotten first. Default 10000. */
  maxAffinityEntries?: number;
  /** The clock for lock and affinity expiry (tests inject one). Default `Date.now`. */
  now?: () => number;
}

export class MemoryStore implements StateStore {
  readonly #records = new Map<string, MemoryRecords<unknown>>();
  readonly #locks: LocalLocks;
  readonly #affinity: AffinityCache;
  readonly #windows = new SlidingWindows();
  readonly #now: () => number;

  constructor(options: MemoryStoreOptions = {}) {
    if (typeof options !== 'object' || options === null) throw new InvalidOptionError('options', 'must be an object');
    if (options.now !== undefined && typeof options.now !== 'function') throw new InvalidOptionError('now', 'must be a function returning ms');
    this.#now = options.now ?? Date.now;
    const maxAffinity = positiveInteger(options.maxAffinityEntries, 'maxAffinityEntries', DEFAULT_MAX_AFFINITY_ENTRIES);
    this.#locks = new LocalLocks(this.#now);
    this.#affinity = new AffinityCache(maxAffinity, this.#now);
  }

  records<T>(namespace: string): SharedRecords<T> {
    let records = this.#records.get(namespace);
    if (!records) {
      records = new MemoryRecords<unknown>();
      this.#records.set(namespace, records);
    }
    return records as SharedRecords<T>;
  }

  tryLock(name: string, ttlMs: number): Promise<boolean> {
    return Promise.resolve(this.#locks.tryLock(name, ttlMs));
  }

  releaseLock(name: string): void {
    this.#locks.release(name);
  }

  remember(responseId: string, providerKey: string, ttlMs: number): void {
    this.#affinity.set(responseId, providerKey, ttlMs);
  }

  recall(responseId: string): string | undefined {
    return this.#affinity.get(responseId);
  }

  recallRemote(responseId: string): Promise<string | undefined> {
    return Promise.resolve(this.#affinity.get(responseId)); // nothing beyond the local copy
  }

  async hit(key: string, limits: RateLimits, now = this.#now()): Promise<RateLimitDecision> {
    return this.#windows.hit(key, limits, now);
  }

  charge(key: string, tokens: number, now = this.#now()): void {
    this.#windows.charge(key, tokens, now);
  }

  async close(): Promise<void> {}
}
