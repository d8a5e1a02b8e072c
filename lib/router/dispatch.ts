/**
 * The router's fixed routes in one Express layer. Express's per-layer and per-route dispatch is a
 * visible share of the proxy's CPU per request; a path lookup in a Map costs next to nothing.
 * Matching follows Express's defaults: case-insensitive, one trailing slash allowed.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';

/** Runs middlewares in order, as Express would run them as separate layers. */
export function chain(handlers: RequestHandler[]): RequestHandler {
  if (handlers.length === 1) return handlers[0];
  return (req, res, next) => {
    let i = 0;
    const step = (error?: unknown): void => {
      if (error !== undefined) {
        next(error);
        return;
      }
      const handler = handlers[i++];
      if (!handler) {
        next();
        return;
      }
      try {
        handler(req, res, step);
      } catch (thrown) {
        next(thrown);
      }
    };
    step();
  };
}

export interface FixedRoute {
  /** Handlers by upper-case method; HEAD falls back to GET, as in Express. */
  methods: Record<string, RequestHandler>;
  /** For any other method. */
  otherwise: RequestHandler;
}

/**
 * The path part of a target in absolute form (`http://host/p?q` gives `/p`), which HTTP/1.1
 * servers must accept and Express routes by its path; undefined when the target has no scheme.
 */
function absoluteFormPath(url: string, end: number): string | undefined {
  const scheme = url.indexOf('://');
  if (scheme === -1 || scheme > end) return undefined;
  const slash = url.indexOf('/', scheme + 3);
  return slash === -1 || slash > end ? '/' : url.slice(slash, end);
}

/** The path Express would match: no scheme and host, no query string, no trailing slash. */
export function pathOf(url: string): string {
  const query = url.indexOf('?');
  const end = query === -1 ? url.length : query;
  let path = url.charCodeAt(0) === 0x2f ? url.slice(0, end) : (absoluteFormPath(url, end) ?? url.slice(0, end));
  if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
  return path;
}

/** One middleware serving `routes` (exact paths); any other path goes on to the next layer. */
export function fixedRoutes(routes: Record<string, FixedRoute>): RequestHandler {
  const table = new Map(Object.entries(routes).map(([path, route]) => [path.toLowerCase(), route]));
  return (req: Request, res: Response, next: NextFunction) => {
    const path = pathOf(req.url);
    const route = table.get(path) ?? table.get(path.toLowerCase());
    if (!route) {
      next();
      return;
    }
    const handler = route.methods[req.method] ?? (req.method === 'HEAD' ? route.methods.GET : undefined) ?? route.otherwise;
    handler(req, res, next);
  };
}
