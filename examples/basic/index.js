/**
 * The basic example: an Express app with routes of its own and the LLM proxy under `/llm`,
 * started the way a production host starts.
 *
 *   npm start                          proxies to an embedded mock upstream (no key needed)
 *   OPENAI_API_KEY=sk-... npm start    proxies to https://api.openai.com/v1 instead
 *   PORT=8080 HOST=0.0.0.0 npm start   another port, on every interface (default 127.0.0.1:3000)
 *   SHUTDOWN_GRACE_MS=30000            how long SIGTERM lets streams finish (default 10000)
 *
 * Importing this file only exports `createExampleApp()`; it listens only when run directly.
 */
import http from 'node:http';
import { pathToFileURL } from 'node:url';
import express from 'express';
import { createLlmProxyRouter } from 'express-llm-proxy';
import { createExampleLogger } from './logger.js';
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
  const router = createLlmProxyRouter({ providers: [provider], logger: createExampleLogger(), ...routerOptions });

  const app = express();
  // The host's own routes, untouched by the proxy mounted next to them. /healthz is a liveness
  // route: no key, no upstream call, so an orchestrator's probe costs nothing and never fails on a provider.
  app.get('/', (_req, res) => {
    res.json({ app: 'express-llm-proxy basic example', upstream: provider.key, proxy: '/llm/v1', models: MODELS });
  });
  app.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });
  // A body parser only where the app needs one: the proxy reads its own body, and an app-wide
  // express.json() before it would answer large bodies itself and re-serialise the rest.
  app.post('/api/feedback', express.json(), (req, res) => {
    res.json({ received: req.body });
  });
  app.use('/llm', router);

  return {
    app,
    upstream: provider.key,
    /** Stops the router (in-flight requests get `graceMs`), then the mock upstream. */
    async close({ graceMs } = {}) {
      await router.close({ graceMs });
      await mock?.close();
    },
  };
}

/** The `curl` line printed on start. */
export function curlLine(baseUrl, { stream = false } = {}) {
  const body = JSON.stringify({ model: 'gpt-4o-mini', ...(stream ? { stream: true } : {}), messages: [{ role: 'user', content: 'Hello!' }] });
  return `curl ${stream ? '-N ' : ''}${baseUrl}/llm/v1/chat/completions -H 'content-type: application/json' -d '${body}'`;
}

/** Where to listen, from `PORT` and `HOST`: loopback unless asked, so a laptop does not serve its network. */
export function listenAddress(env = process.env) {
  const port = env.PORT === undefined || env.PORT === '' ? 3000 : Number(env.PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be a port number (0-65535), not ${JSON.stringify(env.PORT)}`);
  return { port, host: env.HOST || '127.0.0.1' };
}

/** The URL to print: a wildcard address is reachable as localhost; IPv6 goes in brackets. */
export function displayUrl(host, port) {
  const shown = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  return `http://${shown}:${port}`;
}

async function main() {
  const { port, host } = listenAddress();
  const graceMs = Number(process.env.SHUTDOWN_GRACE_MS ?? 10_000);
  const example = await createExampleApp();
  const server = http.createServer(example.app);

  server.once('error', (error) => {
    console.error(
      error.code === 'EADDRINUSE'
        ? `Port ${port} on ${host} is already in use. Stop what is using it, or pick another port: PORT=${port + 1} npm start`
        : error.code === 'EACCES'
          ? `No permission to listen on ${host}:${port}. Use a port above 1023: PORT=3000 npm start`
          : `Could not listen on ${host}:${port}: ${error.message}`,
    );
    void example.close().finally(() => process.exit(1));
  });
  server.listen(port, host, () => {
    const url = displayUrl(host, server.address().port);
    const where = host === '0.0.0.0' || host === '::' ? ' (all interfaces)' : '';
    console.log(`express-llm-proxy example on ${url}${where} (upstream: ${example.upstream})`);
    console.log(`Try:\n  ${curlLine(url)}\n  ${curlLine(url, { stream: true })}`);
  });

  // Graceful shutdown: stop accepting, let in-flight requests and streams finish (up to
  // graceMs; streams still open then end with an SSE `proxy_closed` error event), then exit.
  let stopping = false;
  const stop = (signal) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: shutting down; in-flight requests have ${graceMs} ms to finish`);
    const closed = new Promise((resolve) => server.close(resolve));
    server.closeIdleConnections();
    void (async () => {
      await example.close({ graceMs });
      server.closeIdleConnections(); // keep-alive sockets whose last answer has now gone out
      setTimeout(() => server.closeAllConnections(), 1000).unref();
      await closed;
      process.exit(0);
    })();
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
