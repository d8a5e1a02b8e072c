/**
 * Health marks per provider+model, from health checks: a pair a fresh check called unhealthy is
 * skipped until a later check or a successful request clears it. Marks older than `staleMs` are
 * ignored, so a provider is not shunned forever on an old result.
 */

const pairKey = (providerId: string | number, model: string): string => `${String(providerId)}\u0000${model}`;

export interface HealthMarkReport {
  provider_id: string | number;
  model: string;
  unhealthy_since: string;
}

export class HealthMarks {
  readonly #unhealthy = new Map<string, { providerId: string | number; model: string; since: number }>();

  constructor(
    private readonly staleMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** True while a fresh check has called the pair unhealthy. */
  isUnhealthy(providerId: string | number, model: string): boolean {
    if (this.#unhealthy.size === 0) return false; // the common case
    const mark = this.#unhealthy.get(pairKey(providerId, model));
    return mark !== undefined && this.now() - mark.since < this.staleMs;
  }

  mark(providerId: string | number, model: string, healthy: boolean): void {
    const key = pairKey(providerId, model);
    if (healthy) this.#unhealthy.delete(key);
    else this.#unhealthy.set(key, { providerId, model, since: this.now() });
  }

  report(): HealthMarkReport[] {
    const now = this.now();
    return [...this.#unhealthy.values()]
      .filter((mark) => now - mark.since < this.staleMs)
      .map((mark) => ({ provider_id: mark.providerId, model: mark.model, unhealthy_since: new Date(mark.since).toISOString() }));
  }
}
