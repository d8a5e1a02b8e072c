/**
 * Observability: Prometheus metrics at `GET /metrics`, token usage in every log entry with the
 * caller's tenant, a hook that adds an upstream header or refuses a tenant, and a counter of your
 * own fed by `onFinish` (tokens per tenant, a label the proxy's own metrics leave out).
 *
 *   node examples/observability/index.js      proxies to an embedded mock upstream (no key needed)
 *   curl localhost:3000/metrics               what Prometheus scrapes
 *
 * Importing this file only exports `createObservabilityApp()`; it listens only when run directly.
 */
import { pathToFileURL } from 'node:url';
import express from 'express';
import { createLlmProxyRouter } from 'express-llm-proxy';
import { Counter, Registry } from 'prom-client';
import { MOCK_API_KEY, startMockUpstream } from '../basic/mock-upstream.js';

/**
 * Builds the app: the proxy under `/llm`, its metrics (and one of the app's own) at `/metrics`.
 * @param {{ routerOptions?: object }} [options] passed on to `createLlmProxyRouter`.
 */
export async function createObservabilityApp({ routerOptions = {} } = {}) {
  const mock = await startMockUpstream({ chunkDelayMs: 5 });
  // A registry of the app's own: nothing goes to prom-client's global one unless you pass it.
  const registry = new Registry();
  const tenantTokens = new Counter({
    name: 'app_tenant_tokens_total',
    help: 'Tokens used per tenant, from the proxy onFinish hook.',
    labelNames: ['tenant', 'type'],
    registers: [registry],
  });

  const router = createLlmProxyRouter({
    providers: [{ id: 'mock', key: 'mock', baseUrl: mock.baseUrl, apiKey: MOCK_API_KEY, models: { 'gpt-4o-mini': 'mock-gpt-4o-mini' } }],
    metrics: { registry },
    // Streams report usage only when asked; this asks for every chat stream, so every token counts.
    usage: { includeInStreams: true },
    // Added to each request's log entry and to the onFinish entry.
    logFields: (req) => ({ tenant: req.get('x-tenant') ?? 'anonymous' }),
    hooks: {
      onRequest({ req, setUpstreamHeader, reject }) {
        const tenant = req.get('x-tenant');
        if (tenant === 'blocked') return reject(403, 'This tenant may not use the proxy');
        if (tenant) setUpstreamHeader('x-tenant', tenant);
      },
      onFinish(entry) {
        if (!entry.usage) return;
        tenantTokens.inc({ tenant: entry.tenant, type: 'input' }, entry.usage.input_tokens);
        tenantTokens.inc({ tenant: entry.tenant, type: 'output' }, entry.usage.output_tokens);
      },
    },
    ...routerOptions,
  });

  const app = express();
  // Keep /metrics off the public internet: serve it on an internal port or behind your own auth.
  app.get('/metrics', async (_req, res) => {
    res.type(registry.contentType).send(await registry.metrics());
  });
  app.use('/llm', router);

  return {
    app,
    registry,
    async close() {
      await router.close();
      await mock.close();
    },
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const port = Number(process.env.PORT ?? 3000);
  const { app } = await createObservabilityApp();
  app.listen(port, '127.0.0.1', () => {
    console.log(`Observability example on http://127.0.0.1:${port}`);
    console.log(`Try:\n  curl http://127.0.0.1:${port}/llm/v1/chat/completions -H 'content-type: application/json' -H 'x-tenant: acme' -d '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello!"}]}'`);
    console.log(`  curl http://127.0.0.1:${port}/metrics`);
  });
}
