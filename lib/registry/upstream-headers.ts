/** The headers of every request to a provider, proxied or a health probe. */
import { DEFAULT_ANTHROPIC_VERSION } from '../defaults.js';
import type { ResolvedProvider } from './types.js';

/**
 * Builds the upstream request headers from the provider config, plus the few client headers the
 * route's API passes on (`forwarded`, e.g. `anthropic-version`): the client's own
 * `authorization`, `cookie` and `x-api-key` never travel upstream. The provider's type decides
 * the auth header: `Authorization: Bearer` for `openai`, `x-api-key` and an `anthropic-version`
 * for `anthropic`.
 */
export function upstreamHeaders(provider: ResolvedProvider, requestId: string, forwarded?: Readonly<Record<string, string>>): Record<string, string> {
  const headers: Record<string, string> = {
    ...provider.headers,
    'content-type': 'application/json',
    'x-request-id': requestId,
  };
  if (forwarded !== undefined) Object.assign(headers, forwarded);
  if (provider.type === 'anthropic') {
    headers['anthropic-version'] ??= DEFAULT_ANTHROPIC_VERSION;
    if (provider.apiKey !== undefined) headers['x-api-key'] = provider.apiKey;
  } else if (provider.apiKey !== undefined) {
    headers.authorization = `Bearer ${provider.apiKey}`;
  }
  return headers;
}
