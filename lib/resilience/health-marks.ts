/**
 * Health marks per provider+model, from health checks: a pair a fresh check called unhealthy is
 * skipped until a later check or a successful request clears it. Marks older than `staleMs` are
 * ignored, so a provider is not shunned forever on an old result. The marks live in the store's
 * records (`health` namespace): every instance sharing the store steers by every check's results.
 */
import { MemoryStore } from '../state/memory-store.js';
import type { SharedRecords, StateStore } from '../state/types.js';

const pairKey = (providerId: string | number, model: string): string => `${String(providerId)}\u0000${model}`;

export interface HealthMarkReport {
  provider_id: string | number;
  model: string;
  unhealthy_since: string;
}

interface Mark {
  providerId: string | number;
  model: string;
  since: number;
}

export class HealthMarks {
  readonly #marks: SharedRecords<Mark>;

  constructor(
    private readonly staleMs: number,
    private readonly now: () => number = Date.now,
    /** Where the marks live; the router passes its `store` option. Default: this process only. */
    store: StateStore = new MemoryStore(),
  ) {
    this.#marks = store.records<Mark>('health');
  }

  /** True while a fresh check has called the pair unhealthy. */
  isUnhealthy(providerId: string | number, model: string): boolean {
    const key = pairKey(providerId, model);
    const mark = this.#marks.get(key);
    if (mark === undefined) return false;
    const now = this.now();
    if (now - mark.since < this.staleMs) return true;
    // Stale: dropped, unless someone marked it again meanwhile (the update runs on the shared value).
    void this.#marks.update(key, (current) => (current && now - current.since >= this.staleMs ? undefined : current));
    return false;
  }

  mark(providerId: string | number, model: string, healthy: boolean): void {
    const key = pairKey(providerId, model);
    if (!healthy) {
      const since = this.now();
      void this.#marks.update(key, () => ({ providerId, model, since }));
    } else if (this.#marks.get(key) !== undefined) {
      void this.#marks.delete(key); // every successful request calls this: only a mark costs a write
    }
  }

  report(): HealthMarkReport[] {
    const now = this.now();
    return [...this.#marks.entries()]
      .filter(([, mark]) => now - mark.since < this.staleMs)
      .map(([, mark]) => ({ provider_id: mark.providerId, model: mark.model, unhealthy_since: new Date(mark.since).toISOString() }));
  }
}
