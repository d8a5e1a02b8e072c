/**
 * One namespace of shared records: a local mirror the request path reads synchronously, kept in
 * step with a Redis hash. An update changes the mirror at once, then is written by an optimistic
 * compare-and-set on the record's version; on conflict the updates run again on the value Redis
 * returned, so no instance's update is lost and the transition logic stays in JavaScript.
 *
 * Per key, this instance's updates wait in order in `pending` and leave it only once committed:
 * the mirror (`value`) is always `pending` applied over the last shared value known (`base`).
 * While Redis is unavailable they stay pending and the resync replays them.
 */
import type { RecordUpdate, SharedRecords } from '../state/types.js';
import type { Keyspace } from './keys.js';
import type { RedisLink } from './link.js';
import { NotSentError } from './link.js';
import { COMPARE_AND_SET, LOAD_RECORDS } from './scripts.js';

interface Pending<T> {
  fn: RecordUpdate<T>;
  resolve: ((value: T | undefined) => void) | undefined;
}

interface Entry<T> {
  base: T | undefined;
  /** Version of `base` (for an absent base: a version no older than its deletion). */
  version: number;
  value: T | undefined;
  pending: Pending<T>[];
  /** Attempts whose answer was lost (the connection dropped): they may have committed. */
  uncertain: { op: string; items: Set<Pending<T>> }[];
  flushing: boolean;
}

const emptyEntry = <T>(): Entry<T> => ({ base: undefined, version: 0, value: undefined, pending: [], uncertain: [], flushing: false });

export interface RecordsContext {
  link: RedisLink;
  keys: Keyspace;
  /** This store's id: its own changes come back by pub/sub and are skipped. */
  origin: string;
  nextOp(): string;
  backgroundTimeoutMs: number;
  logError(message: string, error: unknown): void;
}

/** Pending updates kept per key during an outage before they collapse into one "write the local value". */
const MAX_PENDING = 100;
/** Conflicts in a row before a flush pauses for RETRY_MS (each conflict means another instance made progress). */
const MAX_ATTEMPTS = 50;
/** Lost answers remembered per key (each costs an EXISTS in the next attempt). */
const MAX_UNCERTAIN = 8;
/** Pause before trying again after MAX_ATTEMPTS conflicts in a row. */
const RETRY_MS = 20;
/** How long a committed write stays recognisable by its op id. */
const OP_TTL_MS = '600000';

export class RedisRecords<T> implements SharedRecords<T> {
  readonly #entries = new Map<string, Entry<T>>();
  readonly #listeners = new Set<(key: string, value: T | undefined) => void>();
  /** Version counter of the last snapshot: older messages are already in it. */
  #floor = 0;

  constructor(
    private readonly namespace: string,
    private readonly ctx: RecordsContext,
  ) {}

  get(key: string): T | undefined {
    return this.#entries.get(key)?.value;
  }

  *entries(): IterableIterator<[string, T]> {
    for (const [key, entry] of this.#entries) if (entry.value !== undefined) yield [key, entry.value];
  }

  get size(): number {
    let size = 0;
    for (const entry of this.#entries.values()) if (entry.value !== undefined) size++;
    return size;
  }

  update(key: string, fn: RecordUpdate<T>): Promise<T | undefined> {
    let entry = this.#entries.get(key);
    const current = entry?.value;
    const next = fn(current);
    if (next === current) return Promise.resolve(current);
    if (!entry) this.#entries.set(key, (entry = emptyEntry<T>()));
    entry.value = next;
    const settled = new Promise<T | undefined>((resolve) => {
      if (entry.pending.length >= MAX_PENDING) {
        // A long outage: one update that writes the local value (this one included) replaces the
        // list, local wins; pushing `fn` as well would apply it twice on the next new base.
        for (const item of entry.pending) item.resolve?.(next);
        entry.pending = [{ fn: () => next, resolve }];
      } else {
        entry.pending.push({ fn, resolve });
      }
    });
    void this.#flush(key, entry);
    return settled;
  }

  async delete(key: string): Promise<void> {
    await this.update(key, () => undefined);
  }

  onChange(listener: (key: string, value: T | undefined) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** A change another instance published. */
  applyMessage(key: string, version: number, json: string): void {
    if (version <= this.#floor) return;
    const entry = this.#entries.get(key);
    if (entry && entry.version >= version) return;
    this.#setBase(key, entry, this.#parse(json), version);
  }

  /** Loads the namespace from Redis, then replays what is pending. Rejects when Redis is unavailable. */
  async load(): Promise<void> {
    const { keys } = this.ctx;
    const namespaceKeys = [keys.records(this.namespace), keys.recordsSeq(this.namespace)];
    const reply = (await this.ctx.link.eval(LOAD_RECORDS, namespaceKeys, [], this.ctx.backgroundTimeoutMs, true)) as [string, string[]];
    const seq = Number(reply[0]);
    this.#floor = seq;
    const remote = new Map<string, string>();
    for (let i = 0; i < reply[1].length; i += 2) remote.set(reply[1][i]!, reply[1][i + 1]!);
    for (const [key, entry] of this.#entries) {
      // Gone from Redis, and not changed since the snapshot by a message: deleted (or lost).
      if (!remote.has(key) && entry.version <= seq && entry.base !== undefined) this.#setBase(key, entry, undefined, seq);
    }
    for (const [key, raw] of remote) {
      const colon = raw.indexOf(':');
      const version = Number(raw.slice(0, colon));
      const entry = this.#entries.get(key);
      if (!entry || entry.version < version) this.#setBase(key, entry, this.#parse(raw.slice(colon + 1)), version);
    }
    // Not awaited: a write that waits on a slow Redis must not hold up the next resync.
    for (const [key, entry] of this.#entries) void this.#flush(key, entry);
  }

  /** Writes the key's pending updates, batched, until none is left or Redis is unavailable. */
  async #flush(key: string, entry: Entry<T>): Promise<void> {
    if (entry.flushing || entry.pending.length === 0) return;
    entry.flushing = true;
    const { keys, link } = this.ctx;
    try {
      for (let attempt = 0; entry.pending.length > 0 && attempt < MAX_ATTEMPTS; attempt++) {
        const batch = new Set(entry.pending);
        const candidate = entry.value; // always `pending` applied over `base`: no need to run them again
        // Nothing to write on the shared value: still check its version, or a stale no-op could hide a change.
        const mode = candidate === entry.base ? 'check' : candidate === undefined ? 'delete' : 'set';
        const op = this.ctx.nextOp();
        const expected = entry.base === undefined ? '0' : String(entry.version);
        let reply: [number, number, string, string];
        try {
          reply = (await link.eval(
            COMPARE_AND_SET,
            [keys.records(this.namespace), keys.recordsSeq(this.namespace), keys.op(op), ...entry.uncertain.map((u) => keys.op(u.op))],
            [key, expected, mode, mode === 'set' ? JSON.stringify(candidate) : '', keys.changes, this.namespace, this.ctx.origin, OP_TTL_MS],
          )) as [number, number, string, string];
        } catch (error) {
          if (!(error instanceof NotSentError) && mode !== 'check') {
            entry.uncertain.push({ op, items: batch });
            if (entry.uncertain.length > MAX_UNCERTAIN) entry.uncertain.shift();
          }
          return; // unavailable: stays pending for the resync
        }
        const [code, index, versionText, json] = reply;
        const version = Number(versionText);
        if (code === 1) {
          if (mode !== 'check' && version > entry.version) {
            entry.base = candidate;
            entry.version = version;
          } // else a newer change (built on this one) already arrived by pub/sub
          this.#settle(entry, batch, candidate);
          entry.value = this.#applyAll(entry.base, entry.pending); // what arrived meanwhile
        } else {
          if (code === 2) {
            this.#settle(entry, entry.uncertain[index - 1]!.items, entry.value);
            entry.value = this.#applyAll(entry.base, entry.pending);
          }
          // Versions only grow, so an older answer means a newer change already came by pub/sub.
          if (version > entry.version) this.#setBase(key, entry, this.#parse(json), version);
        }
        entry.uncertain = []; // the script checked them all: at most the one it named committed
      }
      // Still pending after MAX_ATTEMPTS conflicts: others are busy on this key; try again shortly.
      if (entry.pending.length > 0) setTimeout(() => void this.#flush(key, entry), RETRY_MS).unref();
    } catch (error) {
      this.ctx.logError(`a ${this.namespace} record could not be written (is its value JSON?)`, error);
    } finally {
      entry.flushing = false;
      for (const item of entry.pending) {
        item.resolve?.(entry.value); // unavailable or contended: the local value for now
        item.resolve = undefined;
      }
      if (entry.value === undefined && entry.pending.length === 0 && entry.uncertain.length === 0 && this.#entries.get(key) === entry) {
        this.#entries.delete(key);
      }
    }
  }

  /** Committed updates leave `pending`; their callers learn the committed value. */
  #settle(entry: Entry<T>, items: Set<Pending<T>>, value: T | undefined): void {
    for (const item of items) item.resolve?.(value);
    entry.pending = entry.pending.filter((item) => !items.has(item));
  }

  /** A newer shared value from another instance: the mirror becomes `pending` applied over it. */
  #setBase(key: string, found: Entry<T> | undefined, value: T | undefined, version: number): void {
    let entry = found;
    if (!entry) {
      if (value === undefined) return;
      this.#entries.set(key, (entry = emptyEntry<T>()));
    }
    const before = entry.value;
    entry.base = value;
    entry.version = version;
    entry.value = this.#applyAll(value, entry.pending);
    if (entry.value === undefined && entry.pending.length === 0 && !entry.flushing && entry.uncertain.length === 0) this.#entries.delete(key);
    if (entry.value === before) return;
    for (const listener of this.#listeners) {
      try {
        listener(key, entry.value);
      } catch (error) {
        this.ctx.logError('a records change listener threw', error);
      }
    }
  }

  #applyAll(base: T | undefined, pending: Pending<T>[]): T | undefined {
    let value = base;
    for (const item of pending) {
      try {
        value = item.fn(value);
      } catch (error) {
        this.ctx.logError(`an update of ${this.namespace} threw when run again; skipped`, error);
      }
    }
    return value;
  }

  #parse(json: string): T | undefined {
    if (json === '') return undefined;
    try {
      return JSON.parse(json) as T;
    } catch (error) {
      this.ctx.logError(`a ${this.namespace} record in Redis is not JSON; ignored`, error);
      return undefined;
    }
  }
}
