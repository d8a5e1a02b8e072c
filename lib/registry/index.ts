export { ProviderIndex, StaticProviderRegistry, createIndexSource } from './provider-index.js';
export { WeightedRoundRobin } from './weighted-round-robin.js';
export { resolveProvider, resolveProviders } from './validate.js';
export { endpointUrl } from './endpoint.js';
export type {
  HealthCheckConfig,
  ModelMapping,
  ProviderConfig,
  ProviderRegistry,
  ResolvedModel,
  ResolvedProvider,
} from './types.js';
