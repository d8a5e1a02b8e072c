/** Errors a health check call rejects with; the admin routes turn them into 404 and 400 answers. */

export type HealthCheckErrorCode = 'provider_not_found' | 'model_not_mapped';

/**
 * A request the service cannot run: an unknown provider id (404) or a model the provider does
 * not map (400). Test `code`, not `instanceof` (jest realms and duplicate copies break it).
 */
export class HealthCheckError extends Error {
  readonly code: HealthCheckErrorCode;
  /** The HTTP status it maps to. */
  readonly status: 404 | 400;
  /** The service option at fault: `id`, `providerIds` or `models`. */
  readonly option: 'id' | 'providerIds' | 'models';

  constructor(code: HealthCheckErrorCode, option: HealthCheckError['option'], message: string) {
    super(message);
    this.name = 'HealthCheckError';
    this.code = code;
    this.status = code === 'provider_not_found' ? 404 : 400;
    this.option = option;
  }
}

export function providerNotFound(id: string | number, option: 'id' | 'providerIds'): HealthCheckError {
  return new HealthCheckError('provider_not_found', option, `Provider ${JSON.stringify(id)} not found`);
}
