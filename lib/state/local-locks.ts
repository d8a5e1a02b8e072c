/** Locks with expiry inside one process: the memory store's locks, and the Redis store's fallback. */
export class LocalLocks {
  readonly #until = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  tryLock(name: string, ttlMs: number): boolean {
    const now = this.now();
    const until = this.#until.get(name);
    if (until !== undefined && until > now) return false;
    this.#until.set(name, now + ttlMs);
    if (this.#until.size > 1000) this.#sweep(now); // names are few; this only bounds a leak
    return true;
  }

  release(name: string): void {
    this.#until.delete(name);
  }

  #sweep(now: number): void {
    for (const [name, until] of this.#until) if (until <= now) this.#until.delete(name);
  }
}
