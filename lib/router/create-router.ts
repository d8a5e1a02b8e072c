/** Builds the Express router from the pieces; the only module (with the health routes) that touches Express. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import express from 'express';
import type { NextFunction, Request, Response, Router } from 'express';
import { openAiError } from '../errors/openai-error.js';
import { routerRequestLogger } from '../logging/request-logger.js';
import { requestContext } from '../http/request-state.js';
import { createProxyHandler } from '../proxy/handler.js';
import type { ProxyEndpoint } from '../proxy/handler.js';
import { sendJson, sendOpenAiError } from '../http/respond.js';
import { WeightedRoundRobin } from '../registry/weighted-round-robin.js';
import { CircuitBreakers } from '../resilience/breaker.js';
import { clientAuth } from './client-auth.js';
import type { FixedRoute } from './dispatch.js';
import { chain, fixedRoutes } from './dispatch.js';
import { listModels } from './models-route.js';
import type { LlmProxyOptions } from './options.js';
import { resolveOptions } from './options.js';
import { mountHealth } from './mount-health.js';

/** The router, plus `close()` to release upstream sockets and background timers on shutdown. */
export type LlmProxyRouter = Router & { close(): Promise<void> };

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

const ENDPOINTS: Record<string, ProxyEndpoint> = {
  '/v1/chat/completions': '/chat/completions',
  '/v1/completions': '/completions',
  '/v1/embeddings': '/embeddings',
};

/** Express 4 does not forward rejections; our handlers do not reject, but a bug must not hang a request. */
const wrap = (handler: Handler) => (req: Request, res: Response, next: NextFunction) => {
  handler(req, res).catch(next);
};

function methodNotAllowed(allow: string) {
  return (req: Request, res: Response) => {
    sendOpenAiError(res, 405, openAiError(`Method ${req.method} is not allowed here; use ${allow}`, 'invalid_request_error', 'method_not_allowed'), { allow });
  };
}

/**
 * Creates the proxy router.
 *
 * @example
 * app.use('/llm', createLlmProxyRouter({
 *   providers: [{ id: 1, key: 'openai', baseUrl: 'https://api.openai.com/v1', apiKey, models: { 'gpt-4o': 'gpt-4o' } }],
 * }));
 */
export function createLlmProxyRouter(options: LlmProxyOptions): LlmProxyRouter {
  const config = resolveOptions(options);
  const router = express.Router() as LlmProxyRouter;
  const log = config.logRequests ? [routerRequestLogger(config.logger)] : [];
  const context = (req: Request, res: Response, next: NextFunction) => {
    res.setHeader('x-request-id', requestContext(req).requestId);
    next();
  };
  const auth = config.apiKeys === undefined ? [] : [clientAuth(config.apiKeys, config.logger)];
  const selector = new WeightedRoundRobin();
  const breakers = new CircuitBreakers(config.breaker);
  const proxyConfig = { ...config, selector, breakers };

  const routes: Record<string, FixedRoute> = {};
  for (const [path, endpoint] of Object.entries(ENDPOINTS)) {
    routes[path] = {
      methods: { POST: chain([...log, context, ...auth, wrap(createProxyHandler(proxyConfig, endpoint))]) },
      otherwise: chain([...log, methodNotAllowed('POST')]),
    };
  }
  routes['/v1/models'] = {
    methods: { GET: chain([...log, context, ...auth, wrap(listModels(config.index))]) },
    otherwise: chain([...log, methodNotAllowed('GET, HEAD')]),
  };
  router.use(fixedRoutes(routes));

  const closeHealth = mountHealth(router, config, log, breakers);

  // Unknown paths under a prefix the host gave us get an OpenAI-shaped 404, not Express's HTML;
  // mounted at the root, only our own namespaces do, so the host's later routes still work.
  router.use((req: Request, res: Response, next: NextFunction) => {
    if (req.baseUrl === '' && !/^\/(?:v1|admin)(?:\/|$)/.test(req.path)) {
      next();
      return;
    }
    sendOpenAiError(res, 404, openAiError(`Unknown route ${req.method} ${req.path}`, 'invalid_request_error', 'unknown_route'));
  });
  router.use((error: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    try {
      config.logger.log('error', 'express-llm-proxy internal error', { error: error instanceof Error ? error.message : String(error), path: req.path });
    } catch {
      // never let logging break the answer
    }
    sendJson(res, 500, openAiError('Internal proxy error', 'server_error', 'internal_error'));
  });

  router.close = async () => {
    await closeHealth();
    await config.closeTransport();
  };
  return router;
}
