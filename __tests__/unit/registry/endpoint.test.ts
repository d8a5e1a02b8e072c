/** `endpointUrl`: the endpoint path goes after the base path and before the base URL's query. */
import { endpointUrl } from '../../../lib/registry/endpoint.js';
import { resolveProvider } from '../../../lib/registry/validate.js';

const at = (baseUrl: string) => resolveProvider({ id: 1, key: 'k', baseUrl, models: { m: 'm' } }, 'p');

describe('endpointUrl', () => {
  it.each([
    ['https://api.openai.com/v1', 'https://api.openai.com/v1/chat/completions'],
    ['https://api.openai.com/v1/', 'https://api.openai.com/v1/chat/completions'],
    ['https://x.openai.azure.com/openai/deployments/d?api-version=2024-10-21', 'https://x.openai.azure.com/openai/deployments/d/chat/completions?api-version=2024-10-21'],
    ['https://x.openai.azure.com/openai/deployments/d/?api-version=2024-10-21&x=a/b', 'https://x.openai.azure.com/openai/deployments/d/chat/completions?api-version=2024-10-21&x=a/b'],
    ['http://127.0.0.1:8080?k=v', 'http://127.0.0.1:8080/chat/completions?k=v'],
  ])('%s -> %s', (baseUrl, url) => {
    expect(endpointUrl(at(baseUrl), '/chat/completions')).toBe(url);
  });
});
