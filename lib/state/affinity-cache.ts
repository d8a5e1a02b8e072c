/**
 * The local copy of the response-id → provider map: bounded by a count, entries expire. A `Map`
 * keeps insertion order, so the oldest entry is the first one. Evicting with a fresh
 * `keys().next()` would walk over every slot deleted since the table was last rebuilt (about
 * 7 µs per eviction at 10,000 entries); one long-lived iterator (Map iterators follow the table
 * through deletions and rebuilds) walks each slot once.
 */
/** Response ids kept by default, in each instance's local copy. */
export const DEFAULT_MAX_AFFINITY_ENTRIES = 10_000;

export class AffinityCache {
  readonly #entries = new Map<string, { value: string; expiresAt: number }>();
  #oldest = this.#entries.keys();

  constructor(
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  set(id: string, value: string, ttlMs: number): void {
    this.#entries.delete(id); // re-inserted last: the newest
    this.#entries.set(id, { value, expiresAt: this.now() + ttlMs });
    if (this.#entries.size > this.maxEntries) {
      let oldest = this.#oldest.next();
      if (oldest.done) {
        this.#oldest = this.#entries.keys();
        oldest = this.#oldest.next();
      }
      this.#entries.delete(oldest.value as string);
    }
  }

  get(id: string): string | undefined {
    const entry = this.#entries.get(id);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.#entries.delete(id);
      return undefined;
    }
    return entry.value;
  }

  get size(): number {
    return this.#entries.size;
  }
}
