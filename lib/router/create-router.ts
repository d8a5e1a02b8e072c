/** Builds the Express router from the pieces; the only module (with the health routes) that touches Express. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import express from 'express';
import type { NextFunction, Request, RequestHandler, Response, Router } from 'express';
import type { Api, ApiRoute } from '../apis/api.js';
import { apiOfPath, APIS } from '../apis/index.js';
import { DEFAULT_CLOSE_GRACE_MS } from '../defaults.js';
import { HttpError, openAiError } from '../errors/openai-error.js';
import { registryError } from './registry-error.js';
import { requestState } from '../http/request-state.js';
import { sendJson } from '../http/respond.js';
import { JsonLinesLog } from '../logging/json-lines.js';
import { routerRequestLogger, routerRequestWatcher } from '../logging/request-logger.js';
import { requestFinisher } from '../observe/finish.js';
import { ProxyObserver } from '../observe/observer.js';
import { sendError } from '../proxy/deliver.js';
import { createFollowUpHandler } from '../proxy/follow-up.js';
import { createProxyHandler, PROXY_CLOSED } from '../proxy/handler.js';
import type { ProxyConfig } from '../proxy/handler.js';
import { ResponseHomes } from '../proxy/response-homes.js';
import { Shutdown } from '../proxy/shutdown.js';
import { WeightedRoundRobin } from '../registry/weighted-round-robin.js';
import { CircuitBreakers } from '../resilience/breaker.js';
import { FailoverPolicy } from '../resilience/failover.js';
import { HealthMarks } from '../resilience/health-marks.js';
import { RateLimiter } from '../limits/rate-limiter.js';
import { nonNegativeMs } from '../util/option-checks.js';
import { clientAuth } from './client-auth.js';
import { hostParserWarning } from './config-warnings.js';
import type { Route } from './dispatch.js';
import { chain, routeParams, routes } from './dispatch.js';
import { mountHealth } from './mount-health.js';
import { ProviderIndex } from '../registry/provider-index.js';
import type { CircuitState } from '../metrics/types.js';
import type { LlmProxyOptions } from './options.js';
import { resolveOptions } from './options.js';

export interface CloseOptions {
  /** How long in-flight requests may take to finish before they are stopped. Default 10000 ms. */
  graceMs?: number | undefined;
}

/** The router, plus `close()` to stop taking requests and release sockets and timers on shutdown. */
export type LlmProxyRouter = Router & { close(options?: CloseOptions): Promise<void> };

/** Express 4 does not forward rejections; our handlers answer their own errors, but a bug must not hang a request. */
const wrap =
  (handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>): RequestHandler =>
  (req, res, next) => {
    handler(req, res).catch(next);
  };

function methodNotAllowed(api: Api, allow: string): RequestHandler {
  return (req, res) => {
    sendError(res, api, new HttpError(405, openAiError(`Method ${req.method} is not allowed here; use ${allow}`, 'invalid_request_error', 'method_not_allowed'), { allow }));
  };
}

/** A route the router answers itself; its errors are in the API's envelope. */
function localHandler(api: Api, route: Extract<ApiRoute, { kind: 'local' }>, index: () => ProviderIndex | Promise<ProviderIndex>) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    try {
      await route.handle({ req, res, index, params: routeParams(req) });
    } catch (error) {
      if (error instanceof HttpError) sendError(res, api, error);
      else throw error;
    }
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
  const { metrics, tracing, hooks, logFields } = config.observe;
  // The end of each request: its log entry, and whatever else wants to know (metrics, traces, onFinish).
  const observesEnd = metrics !== undefined || tracing !== undefined || hooks.onFinish !== undefined;
  const finish = requestFinisher({ logger: config.logger, onFinish: hooks.onFinish, logFields, metrics });
  const log = observesEnd || (config.logRequests && logFields !== undefined) ? [routerRequestWatcher(finish, config.logRequests)] : config.logRequests ? [routerRequestLogger(config.logger)] : [];
  const { store } = config;
  // The latest provider index, to name the provider (its key) of a breaker that changed state,
  // here or on another instance; a fixed list is known from the start, a registry's once read.
  const fixed = Array.isArray(config.providers) ? config.index() : undefined;
  let latest: ProviderIndex | undefined = fixed instanceof ProviderIndex ? fixed : undefined;
  const onBreakerChange = metrics && ((id: string | number, model: string, state: CircuitState) => metrics.circuitState(latest?.byId(id)?.key ?? String(id), model, state));
  const breakers = new CircuitBreakers(config.breaker, Date.now, onBreakerChange, store);
  const health = new HealthMarks(config.health.staleMs, Date.now, store);
  const limiter = config.limits && new RateLimiter(config.limits, store, config.apiKeys !== undefined, config.logger);
  const shutdown = new Shutdown();
  // Registry failures become the API's 503 (or 500) wherever the index is needed. A fixed list's
  // index comes back as it is, not in a promise: awaiting nothing still costs a microtask turn.
  const failed = (error: unknown): never => {
    throw registryError(error, config.logger);
  };
  const index = (): ProviderIndex | Promise<ProviderIndex> => {
    let current: ProviderIndex | Promise<ProviderIndex>;
    try {
      current = config.index();
    } catch (error) {
      return failed(error);
    }
    if (current instanceof ProviderIndex) return (latest = current);
    return current.then((resolved) => (latest = resolved), failed);
  };
  const proxyConfig: ProxyConfig = {
    ...config,
    index,
    retryOnStatus: config.retry.onStatus,
    failover: new FailoverPolicy({ retry: config.retry, breakers, health, selector: new WeightedRoundRobin() }),
    shutdown,
    readUsage: config.logRequests || observesEnd || config.limits?.readsTokens === true,
    observer: new ProxyObserver({ logger: config.logger, metrics, tracing, hooks, shutdown, stopped: PROXY_CLOSED }),
    includeUsageInStreams: config.observe.includeUsageInStreams,
    onHostParsedBody: hostParserWarning(config.logger),
    homes: new ResponseHomes(config.store, config.responses.rememberMs),
  };

  const table: Record<string, Route> = {};
  for (const api of APIS) {
    const begin: RequestHandler = (req, res, next) => {
      const state = requestState(req);
      state.api = api.name;
      res.setHeader('x-request-id', state.requestId);
      if (shutdown.closing) {
        state.logLevel = 'info'; // refusing work while shutting down is expected, not an error
        sendError(res, api, PROXY_CLOSED);
        return;
      }
      next();
    };
    const auth = config.apiKeys === undefined ? [] : [clientAuth(config.apiKeys, config.logger, api)];
    const limit = limiter ? [limiter.middleware(api)] : [];
    for (const route of api.routes) {
      const handler =
        route.kind === 'proxy'
          ? createProxyHandler(proxyConfig, api, route)
          : route.kind === 'follow-up'
            ? createFollowUpHandler(proxyConfig, api, route, routeParams)
            : localHandler(api, route, index);
      const entry = (table[route.path] ??= { methods: {}, otherwise: (_req, _res, next) => next() });
      // Rate limits count the proxied calls, not the router's own answers (the model list).
      entry.methods[route.method] = chain([...log, begin, ...auth, ...(route.kind === 'local' ? [] : limit), wrap(handler)]);
      const allow = Object.keys(entry.methods).join(', ') + (entry.methods.GET ? ', HEAD' : '');
      entry.otherwise = chain([...log, begin, methodNotAllowed(api, allow)]);
    }
  }
  const serveApis = routes(table);

  const closeHealth = mountHealth(router, config, log, breakers, health, store, metrics);

  // Unknown paths under a prefix the host gave us get an OpenAI-shaped 404, not Express's HTML;
  // mounted at the root, only our own namespaces do, so the host's later routes still work.
  router.use((req: Request, res: Response, next: NextFunction) => {
    if (req.baseUrl === '' && !/^\/(?:v1|admin)(?:\/|$)/.test(req.path)) {
      next();
      return;
    }
    const unknown = new HttpError(404, openAiError(`Unknown route ${req.method} ${req.path}`, 'invalid_request_error', 'unknown_route'));
    const api = apiOfPath(req.path);
    if (api) sendError(res, api, unknown);
    else sendJson(res, unknown.status, unknown.body);
  });
  const internalError = (error: unknown, req: Request, res: Response, next: NextFunction): void => {
    if (res.headersSent) {
      next(error);
      return;
    }
    if ((error as { code?: unknown } | null)?.code === 'provider_registry_unavailable') {
      const unavailable = registryError(error, config.logger); // the admin routes' registry timed out
      sendJson(res, unavailable.status, unavailable.body);
      return;
    }
    try {
      config.logger.log('error', 'express-llm-proxy internal error', { error: error instanceof Error ? error.message : String(error), path: req.path });
    } catch {
      // never let logging break the answer
    }
    sendJson(res, 500, openAiError('Internal proxy error', 'server_error', 'internal_error'));
  };
  router.use(internalError);

  // The API routes are matched before Express's own dispatch runs: it makes closures per request
  // and walks the layers, a visible share of a request's CPU and of what its garbage collections
  // copy. What the table does not serve (the health routes, unknown paths) goes through it as before.
  // (`handle` is what the Router function calls, in Express 4 and 5, though their types omit it.)
  const dispatcher = router as unknown as { handle(req: Request, res: Response, callback: NextFunction): void };
  const expressHandle = dispatcher.handle;
  dispatcher.handle = function handle(req, res, callback) {
    serveApis(req, res, (error?: unknown) => {
      if (error === undefined) expressHandle.call(this, req, res, callback);
      else internalError(error, req, res, callback);
    });
  };

  let closed: Promise<void> | undefined;
  router.close = (closeOptions: CloseOptions = {}) => {
    if (closed) return closed; // idempotent: later calls get the first one's promise, whatever they pass
    let graceMs: number;
    try {
      graceMs = nonNegativeMs(closeOptions?.graceMs, 'graceMs', DEFAULT_CLOSE_GRACE_MS);
    } catch (error) {
      return Promise.reject(error); // nothing started: a later call with a good value still closes
    }
    closed = (async () => {
      await shutdown.close(graceMs);
      await closeHealth();
      breakers.close();
      await config.closeStore();
      await config.closeTransport();
      // The default logger batches its lines for up to 10 ms: a host that exits right after
      // close() still gets the entries of the last requests.
      if (config.logger instanceof JsonLinesLog) config.logger.close();
    })();
    return closed;
  };
  return router;
}
