/**
 * Smooth weighted round-robin (as in nginx): weights 3:1 give exactly 75:25 over 100 picks,
 * interleaved (A A B A ...), never in bursts. State is kept per model and survives changes to
 * the candidate list.
 */
import type { ResolvedProvider } from './types.js';

export class WeightedRoundRobin {
  readonly #current = new Map<string, Map<string, number>>();

  /** Picks one of `candidates` (all with weight > 0) for `model`; undefined when empty. */
  pick(model: string, candidates: readonly ResolvedProvider[]): ResolvedProvider | undefined {
    if (candidates.length <= 1) {
      return candidates[0];
    }
    let state = this.#current.get(model);
    if (!state) {
      state = new Map();
      this.#current.set(model, state);
    }
    let total = 0;
    let best: ResolvedProvider | undefined;
    let bestWeight = -Infinity;
    for (const provider of candidates) {
      const id = String(provider.id);
      const weight = (state.get(id) ?? 0) + provider.weight;
      state.set(id, weight);
      total += provider.weight;
      if (weight > bestWeight) {
        bestWeight = weight;
        best = provider;
      }
    }
    if (best) {
      state.set(String(best.id), bestWeight - total);
    }
    return best;
  }
}
