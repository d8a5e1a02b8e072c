/**
 * Where a provider's endpoint is: its base URL with the endpoint path added before the base
 * URL's query, so Azure's `…/deployments/d?api-version=2024-10-21` gives
 * `…/deployments/d/chat/completions?api-version=2024-10-21`.
 */
import type { ResolvedProvider } from './types.js';

/**
 * The URL of `path` (e.g. `/chat/completions`) at `provider`. The resolved base URL has no
 * trailing slash before its query and no fragment (validation sees to both).
 *
 * @example
 * endpointUrl({ baseUrl: 'https://x.openai.azure.com/openai/deployments/d?api-version=2024-10-21' }, '/chat/completions')
 * // 'https://x.openai.azure.com/openai/deployments/d/chat/completions?api-version=2024-10-21'
 */
export function endpointUrl(provider: Pick<ResolvedProvider, 'baseUrl'>, path: string): string {
  const { baseUrl } = provider;
  const query = baseUrl.indexOf('?');
  return query === -1 ? baseUrl + path : baseUrl.slice(0, query) + path + baseUrl.slice(query);
}
