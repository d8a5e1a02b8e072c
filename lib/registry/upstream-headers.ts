/** The headers of every request to a provider, proxied or a health probe. */
import type { ResolvedProvider } from './types.js';

/**
 * Builds the upstream request headers from the provider config alone: the client's own
 * `authorization`, `cookie` and `x-api-key` never travel upstream.
 */
export function upstreamHeaders(provider: ResolvedProvider, requestId: string): Record<string, string> {
  const headers: Record<string, string> = {
    ...provider.headers,
    'content-type': 'application/json',
    'x-request-id': requestId,
  };
  if (provider.apiKey !== undefined) {
    headers.authorization = `Bearer ${provider.apiKey}`;
  }
  return headers;
}
