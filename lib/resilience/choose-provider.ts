/** Picks the provider for an attempt: weighted among the usable ones, never the last one again. */
import type { ResolvedProvider } from '../registry/types.js';
import type { WeightedRoundRobin } from '../registry/weighted-round-robin.js';
import type { CircuitBreakers } from './breaker.js';

export function chooseProvider(
  model: string,
  candidates: readonly ResolvedProvider[],
  selector: WeightedRoundRobin,
  breakers: CircuitBreakers,
  previous?: ResolvedProvider,
  tried?: ReadonlySet<ResolvedProvider>,
): ResolvedProvider | undefined {
  let pool = previous ? candidates.filter((provider) => provider !== previous) : candidates;
  const untried = tried?.size ? pool.filter((provider) => !tried.has(provider)) : pool;
  if (untried.length > 0) pool = untried;
  if (pool.length === 0) return undefined;
  const usable = pool.filter((provider) => breakers.availableAt(provider.id, model) === 0);
  if (usable.length > 0) return selector.pick(model, usable);
  // Everything is cooling down or marked unhealthy: try the one that recovers soonest.
  let soonest = pool[0];
  for (const provider of pool) {
    if (breakers.availableAt(provider.id, model) < breakers.availableAt(soonest.id, model)) soonest = provider;
  }
  return soonest;
}
