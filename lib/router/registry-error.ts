/** The answer when the provider registry fails: 503 when it is unavailable (hung, or no good list yet), else 500. */
import type { LogSink } from '../logging/request-logger.js';
import { HttpError, openAiError } from '../errors/openai-error.js';

export function registryError(error: unknown, logger: LogSink): HttpError {
  if ((error as { code?: unknown } | null)?.code === 'provider_registry_unavailable') {
    // The index source has logged it already.
    return new HttpError(503, openAiError('The provider registry is unavailable', 'server_error', 'provider_registry_unavailable'));
  }
  try {
    logger.log('error', 'provider registry failed', { error: error instanceof Error ? error.message : String(error) });
  } catch {
    // never let logging break the answer
  }
  return new HttpError(500, openAiError('The provider registry is unavailable', 'server_error', 'provider_registry_error'));
}
