/**
 * The `StateStore` shared through Redis by every router instance. Reads stay local (the records'
 * mirrors, the affinity copy); writes the request path does not need are fire-and-forget; the few
 * calls a request awaits (`hit`, `tryLock`, `recallRemote`) give up after `timeoutMs`. Record
 * changes reach the other instances by pub/sub on a connection of the store's own
 * (`client.duplicate()`); after that connection comes back, every mirror is reloaded.
 */
import { randomBytes } from 'node:crypto';
import { AffinityCache } from '../state/affinity-cache.js';
import { LocalLocks } from '../state/local-locks.js';
import { limitsOf } from '../state/rate-limits.js';
import type { RateLimitDecision, RateLimits, SharedRecords, StateStore } from '../state/types.js';
import { RATE_WINDOW_MS } from '../state/types.js';
import type { RedisSubscriber } from './client.js';
import type { Keyspace } from './keys.js';
import { keyspace } from './keys.js';
import { RedisLink } from './link.js';
import type { ResolvedRedisStoreOptions } from './options.js';
import { RedisRecords } from './records.js';
import { RATE_CHARGE, RATE_HIT, RECALL, RELEASE_LOCK } from './scripts.js';

const UNAVAILABLE: RateLimitDecision = Object.freeze({ unavailable: true });
const ignore = () => undefined;

export class RedisStore implements StateStore {
  /** Other instances share this state: see `StateStore.shared`. */
  readonly shared = true;
  /**
   * Settles once the store subscribed and tried its first load (a failure is logged, not thrown;
   * the store then serves local state and resyncs when Redis answers). Awaiting it is optional.
   */
  readonly ready: Promise<void>;
  readonly #options: ResolvedRedisStoreOptions;
  readonly #keys: Keyspace;
  readonly #link: RedisLink;
  readonly #subscriber: RedisSubscriber;
  /** This store's id: the owner token of its locks, the origin of its messages, the stem of its members. */
  readonly #id = randomBytes(8).toString('hex');
  #seq = 0;
  readonly #records = new Map<string, RedisRecords<unknown>>();
  readonly #affinity: AffinityCache;
  readonly #localLocks = new LocalLocks();
  #subscribed = false;
  #closed = false;
  #resyncing: Promise<void> | undefined;
  #resyncAgain = false;

  constructor(options: ResolvedRedisStoreOptions) {
    this.#options = options;
    this.#keys = keyspace(options.prefix);
    this.#affinity = new AffinityCache(options.maxAffinityEntries);
    this.#link = new RedisLink(options.client, options.logger, () => void this.#resync(), options.backgroundTimeoutMs);
    this.#subscriber = options.client.duplicate();
    // Without a listener an 'error' event would crash the host; each one is at most one warning.
    this.#subscriber.on('error', (error) => this.#link.noteFailure(error));
    this.ready = this.#start();
  }

  async #start(): Promise<void> {
    try {
      await this.#subscriber.connect();
      await this.#subscriber.subscribe(this.#keys.changes, (message) => this.#onMessage(message));
      this.#subscribed = true;
      // node-redis re-subscribes before 'ready', so a load after it misses no message.
      this.#subscriber.on('ready', () => void this.#resync());
      await this.#resync();
    } catch (error) {
      if (!this.#closed) this.#link.noteFailure(error);
    }
  }

  records<T>(namespace: string): SharedRecords<T> {
    let records = this.#records.get(namespace);
    if (!records) {
      records = new RedisRecords<unknown>(namespace, {
        link: this.#link,
        keys: this.#keys,
        origin: this.#id,
        nextOp: () => this.#next(),
        backgroundTimeoutMs: this.#options.backgroundTimeoutMs,
        logError: (message, error) => this.#link.log('error', `express-llm-proxy: ${message}`, { error: String(error) }),
      });
      this.#records.set(namespace, records);
      if (this.#subscribed) void this.#resync(); // before that, the start loads it
    }
    return records as SharedRecords<T>;
  }

  async tryLock(name: string, ttlMs: number): Promise<boolean> {
    const ttl = String(Math.max(1, Math.ceil(ttlMs)));
    try {
      // SET NX: one winner however many instances ask at once; PX: a holder that dies frees it.
      return (await this.#link.send(['SET', this.#keys.lock(name), this.#id, 'NX', 'PX', ttl], this.#options.timeoutMs)) === 'OK';
    } catch {
      return this.#localLocks.tryLock(name, ttlMs); // one holder per instance at least
    }
  }

  releaseLock(name: string): void {
    this.#localLocks.release(name);
    if (this.#link.available) this.#link.eval(RELEASE_LOCK, [this.#keys.lock(name)], [this.#id], this.#options.timeoutMs).catch(ignore);
  }

  remember(responseId: string, providerKey: string, ttlMs: number): void {
    this.#affinity.set(responseId, providerKey, ttlMs);
    const ttl = String(Math.max(1, Math.ceil(ttlMs)));
    if (this.#link.available) this.#link.send(['SET', this.#keys.affinity(responseId), providerKey, 'PX', ttl], this.#options.timeoutMs).catch(ignore);
  }

  recall(responseId: string): string | undefined {
    return this.#affinity.get(responseId);
  }

  async recallRemote(responseId: string): Promise<string | undefined> {
    try {
      const [provider, ttl] = (await this.#link.eval(RECALL, [this.#keys.affinity(responseId)], [], this.#options.timeoutMs)) as [string, number];
      if (provider === '' || !(ttl > 0)) return undefined;
      this.#affinity.set(responseId, provider, ttl);
      return provider;
    } catch {
      return undefined;
    }
  }

  /** `now`: the window's clock; by default Redis's own, so instances whose clocks disagree share one window. */
  async hit(key: string, limits: RateLimits, now?: number): Promise<RateLimitDecision> {
    const { requests, tokens } = limitsOf(limits);
    if (requests === 0 && tokens === 0) return { allowed: true };
    const k = this.#keys;
    let reply: [number, number, number, number, number];
    try {
      reply = (await this.#link.eval(
        RATE_HIT,
        [k.requests(key), k.tokens(key), k.tokenSum(key)],
        [now === undefined ? '' : String(now), String(RATE_WINDOW_MS), String(requests), String(tokens), this.#next()],
        this.#options.timeoutMs,
      )) as typeof reply;
    } catch {
      return UNAVAILABLE;
    }
    const [allowed, counted, requestsResetMs, used, tokensResetMs] = reply;
    const decision: RateLimitDecision = { allowed: allowed === 1 };
    if (requests > 0) decision.requests = { limit: requests, remaining: Math.max(0, requests - counted), resetMs: requestsResetMs };
    if (tokens > 0) decision.tokens = { limit: tokens, remaining: Math.max(0, tokens - used), resetMs: tokensResetMs };
    return decision;
  }

  charge(key: string, tokens: number, now?: number): void {
    if (!(tokens > 0) || !Number.isFinite(tokens) || !this.#link.available) return;
    const k = this.#keys;
    const args = [now === undefined ? '' : String(now), String(RATE_WINDOW_MS), String(Math.ceil(tokens)), this.#next()];
    this.#link.eval(RATE_CHARGE, [k.tokens(key), k.tokenSum(key)], args, this.#options.timeoutMs).catch(ignore);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#link.close();
    this.#subscriber.destroy(); // ours; the host's client stays open
  }

  /** Unique across instances: members of the rate-limit sets, op ids of record writes. */
  #next(): string {
    return `${this.#id}.${(++this.#seq).toString(36)}`;
  }

  #onMessage(message: string): void {
    try {
      const [namespace, key, version, json, origin] = JSON.parse(message) as [string, string, string, string, string];
      if (origin === this.#id) return; // our own write: the mirror has it already
      this.#records.get(namespace)?.applyMessage(key, Number(version), json);
    } catch {
      // Not one of ours (someone else publishing on the channel): ignored.
    }
  }

  /** Reloads every namespace and replays pending updates; one at a time, again if asked meanwhile. */
  #resync(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    if (this.#resyncing) {
      this.#resyncAgain = true;
      return this.#resyncing;
    }
    this.#resyncing = (async () => {
      do {
        this.#resyncAgain = false;
        // A failed load is noted by the link (one warning); its probe asks for the next resync.
        await Promise.all([...this.#records.values()].map((records) => records.load().catch(ignore)));
      } while (this.#resyncAgain && !this.#closed);
    })().finally(() => (this.#resyncing = undefined));
    return this.#resyncing;
  }
}
