// Provider configuration, as hosts write it (types only: the router and the health service take them).
export type { HealthCheckConfig, ModelMapping, ProviderConfig, ProviderRegistry } from './types.js';
