/**
 * Operator mistakes an adversarial review aimed at: a baseUrl with a query string (Azure's
 * api-version), a registry that hangs or returns a bad list, and keys read from a file with their
 * trailing newline.
 */
import { buildApp, listen, provider } from '../kit/app.js';
import { postJson } from '../kit/client.js';
import { useUpstream } from '../kit/upstream.js';
import { createLlmProxyRouter, HealthCheckService } from '../../lib/index.js';

const upstream = useUpstream();
const AZURE_PATH = '/openai/deployments/d';
const API_VERSION = 'api-version=2024-10-21';

describe('a baseUrl with a query string', () => {
  it('the health service probes <base path>/chat/completions?<query>', async () => {
    const service = new HealthCheckService({ providers: [provider(`${upstream.origin}${AZURE_PATH}/?${API_VERSION}`)] });
    try {
      const report = await service.checkProvider(1, { models: ['gpt-test'] });
      expect(report.models[0]).toMatchObject({ status: 'healthy', http_status: 200 });
      expect(upstream.requests.map((r) => r.url)).toEqual([`${AZURE_PATH}/chat/completions?${API_VERSION}`]);
    } finally {
      await service.close();
    }
  });

  it('the admin health route of the router probes the same URL', async () => {
    const { app, router } = buildApp({ providers: [provider(`${upstream.origin}${AZURE_PATH}?${API_VERSION}`)], adminKey: 'admin-key' });
    const host = await listen(app);
    try {
      const res = await postJson(`${host.url}/llm/admin/v1/providers/1/health`, { models: ['embed-test'] }, { authorization: 'Bearer admin-key' });
      expect(res.status).toBe(200);
      expect(upstream.requests.map((r) => r.url)).toEqual([`${AZURE_PATH}/chat/completions?${API_VERSION}`]);
    } finally {
      await host.close();
      await router.close();
    }
  });

  it('a baseUrl with a fragment is refused at construction, naming the provider baseUrl', () => {
    const providers = [provider(`${upstream.origin}${AZURE_PATH}?${API_VERSION}#deployments`)];
    for (const construct of [() => createLlmProxyRouter({ providers }), () => new HealthCheckService({ providers })]) {
      expect(construct).toThrow(expect.objectContaining({ name: 'InvalidOptionError', option: 'providers[0].baseUrl' }));
    }
  });
});
