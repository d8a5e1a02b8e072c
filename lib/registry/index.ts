// Provider configuration, as hosts write it (types only: the router and the health service take them).
export type { HealthCheckConfig, ModelMapping, ProviderApi, ProviderConfig, ProviderRegistry, ProviderType } from './types.js';
export type { ProbeMode } from './probe-modes.js';
