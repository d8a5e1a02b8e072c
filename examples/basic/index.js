/**
 * The basic example: an Express app with a route of its own and the LLM proxy under `/llm`.
 *
 *   npm start                          proxies to an embedded mock upstream (no key needed)
 *   OPENAI_API_KEY=sk-... npm start    proxies to https://api.openai.com/v1 instead
 *
 * Importing this file only exports `createExampleApp()`; it listens only when run directly.
 */
import { pathToFileURL } from 'node:url';
import express from 'express';
import { createLlmProxyRouter } from 'express-llm-proxy';
import { MOCK_API_KEY, startMockUpstream } from './mock-upstream.js';

/** Client-facing model names; the mock serves them under `mock-*` names to show the mapping. */
export const MODELS = ['gpt-4o-mini', 'gpt-4o', 'gpt-3.5-turbo-instruct', 'text-embedding-3-small'];

/**
 * Builds the example app.
 * @param {{ openaiApiKey?: string, chunkDelayMs?: number, routerOptions?: object }} [options]
 *   `openaiApiKey` (default `process.env.OPENAI_API_KEY`) switches from the mock to OpenAI;
 *   `routerOptions` are passed on to `createLlmProxyRouter`.
 */
export async function createExampleApp({ openaiApiKey = process.env.OPENAI_API_KEY, chunkDelayMs, routerOptions = {} } = {}) {
  const mock = openaiApiKey ? undefined : await startMockUpstream({ chunkDelayMs });
  const provider = mock
    ? { id: 'mock', key: 'mock', baseUrl: mock.baseUrl, apiKey: MOCK_API_KEY, models: Object.fromEntries(MODELS.map((m) => [m, `mock-${m}`])) }
    : { id: 'openai', key: 'openai', baseUrl: 'https://api.openai.com/v1', apiKey: openaiApiKey, models: Object.fromEntries(MODELS.map((m) => [m, m])) };
  const router = createLlmProxyRouter({ providers: [provider], ...routerOptions });

  const app = express();
  // The host's own route, untouched by the proxy mounted next to it.
  app.get('/', (_req, res) => {
    res.json({ app: 'express-llm-proxy basic example', upstream: provider.key, proxy: '/llm/v1', models: MODELS });
  });
  app.use('/llm', router);

  return {
    app,
    upstream: provider.key,
    async close() {
      await router.close();
      await mock?.close();
    },
  };
}

/** The `curl` line printed on start. */
export function curlLine(baseUrl, { stream = false } = {}) {
  const body = JSON.stringify({ model: 'gpt-4o-mini', ...(stream ? { stream: true } : {}), messages: [{ role: 'user', content: 'Hello!' }] });
  return `curl ${stream ? '-N ' : ''}${baseUrl}/llm/v1/chat/completions -H 'content-type: application/json' -d '${body}'`;
}

async function main() {
  const example = await createExampleApp();
  const server = example.app.listen(Number(process.env.PORT ?? 3000), () => {
    const url = `http://localhost:${server.address().port}`;
    console.log(`express-llm-proxy example on ${url} (upstream: ${example.upstream})`);
    console.log(`Try:\n  ${curlLine(url)}\n  ${curlLine(url, { stream: true })}`);
  });
  const stop = () => {
    server.closeAllConnections();
    server.close(() => void example.close().then(() => process.exit(0)));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
