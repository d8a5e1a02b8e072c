/** Builds host apps around the router for tests, on whichever Express the jest project maps. */
import type { AddressInfo } from 'node:net';
import type http from 'node:http';
import { request as httpRequest } from 'node:http';
import express from 'express';
import winston from 'winston';
import Transport from 'winston-transport';
import { createLlmProxyRouter } from '../../lib/index.js';
import type { LlmProxyOptions, LlmProxyRouter, ProviderConfig } from '../../lib/index.js';
import { closeAfterEach } from './stream-client.js';

export const SECRET = 'sk-test-SECRET-provider-key-0123456789';

export function provider(baseUrl: string, overrides: Partial<ProviderConfig> = {}): ProviderConfig {
  return {
    id: 1,
    key: 'mock',
    baseUrl,
    apiKey: SECRET,
    models: { 'gpt-test': 'upstream-gpt', 'embed-test': 'upstream-embed' },
    ...overrides,
  };
}

/** A winston logger whose entries land in `entries`. */
export class CaptureTransport extends Transport {
  entries: Record<string, unknown>[] = [];
  override log(info: Record<string, unknown>, next: () => void): void {
    this.entries.push({ ...info });
    next();
  }
}

export function captureLogger() {
  const transport = new CaptureTransport();
  const logger = winston.createLogger({ level: 'debug', transports: [transport] });
  return { logger, entries: transport.entries };
}

export interface TestApp {
  app: express.Express;
  router: LlmProxyRouter;
  entries: Record<string, unknown>[];
}

/** An app with routes of its own and the router under `/llm`. */
export function buildApp(options: Partial<LlmProxyOptions> & Pick<LlmProxyOptions, 'providers'>, setup?: (app: express.Express) => void): TestApp {
  const { logger, entries } = captureLogger();
  const app = express();
  setup?.(app);
  app.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });
  const router = createLlmProxyRouter({ logger, ...options });
  app.use('/llm', router);
  app.get('/after', (_req, res) => {
    res.send('host route after the router');
  });
  return { app, router, entries };
}

/** Listens on 127.0.0.1:0 (for clients that need a real URL, like the openai SDK). */
export async function listen(app: express.Express): Promise<{ server: http.Server; url: string; close: () => Promise<void> }> {
  const server = await new Promise<http.Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** POSTs JSON with node:http and returns the request, so a test can abort it mid-flight. */
export function rawPost(url: string, body: unknown, headers: Record<string, string> = {}) {
  const payload = typeof body === 'string' ? body : JSON.stringify(body);
  const req = httpRequest(url, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)), ...headers } });
  req.on('error', () => {}); // aborting is the point of most callers
  req.end(payload);
  return req;
}

/**
 * `buildApp` and `listen` whose routers and servers close after each test, even one that failed
 * half-way, so jest can exit; `track` closes anything else the same way. Call at a suite's top level.
 */
export function trackedApps() {
  const track = closeAfterEach();
  return {
    track,
    tracked(...args: Parameters<typeof buildApp>): ReturnType<typeof buildApp> {
      const built = buildApp(...args);
      track(() => built.router.close());
      return built;
    },
    async serve(app: Parameters<typeof listen>[0]): Promise<Awaited<ReturnType<typeof listen>>> {
      const server = await listen(app);
      track(server.close);
      return server;
    },
  };
}
