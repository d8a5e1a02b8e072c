/** Records kept in this process only: the mirror is the whole truth, and nobody else changes it. */
import type { RecordUpdate, SharedRecords } from './types.js';

export class MemoryRecords<T> implements SharedRecords<T> {
  readonly #values = new Map<string, T>();

  get(key: string): T | undefined {
    return this.#values.get(key);
  }

  entries(): IterableIterator<[string, T]> {
    return this.#values.entries();
  }

  get size(): number {
    return this.#values.size;
  }

  update(key: string, fn: RecordUpdate<T>): Promise<T | undefined> {
    const current = this.#values.get(key);
    const next = fn(current);
    if (next !== current) {
      if (next === undefined) this.#values.delete(key);
      else this.#values.set(key, next);
    }
    return Promise.resolve(next);
  }

  async delete(key: string): Promise<void> {
    await this.update(key, () => undefined);
  }

  /** No other instance exists, so the listener is never called. */
  onChange(_listener: (key: string, value: T | undefined) => void): () => void {
    return () => undefined;
  }
}
