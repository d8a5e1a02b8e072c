// The `express-llm-proxy/health` entry: the health service on its own, without Express, for
// scripts and cron jobs. The admin routes (`createHealthRouter`) live in the main entry.
export { HealthCheckService } from './service.js';
export type { HealthCheckServiceOptions } from './service.js';
export { HealthCheckError } from './errors.js';
export type { HealthCheckErrorCode } from './errors.js';
export type {
  CheckOptions,
  CheckProvidersOptions,
  HealthCheckReport,
  HealthSummary,
  ModelHealth,
  ProviderHealthReport,
  ProviderHealthStatus,
} from './types.js';
