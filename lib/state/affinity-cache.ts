/**
 * The local copy of the response-id → provider map: bounded by a count, entries expire. A `Map`
 * keeps insertion order, so the oldest entry is the first one: eviction is O(1) and needs no list.
 */
/** Response ids kept by default, in each instance's local copy. */
export const DEFAULT_MAX_AFFINITY_ENTRIES = 10_000;

export class AffinityCache {
  readonly #entries = new Map<string, { value: string; expiresAt: number }>();

  constructor(
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  set(id: string, value: string, ttlMs: number): void {
    this.#entries.delete(id); // re-inserted last: the newest
    this.#entries.set(id, { value, expiresAt: this.now() + ttlMs });
    if (this.#entries.size > this.maxEntries) {
      this.#entries.delete(this.#entries.keys().next().value as string);
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
