/**
 * The router's API routes in one function, which the router runs before Express's own dispatch.
 * Express's per-layer and per-route dispatch is a visible share of the proxy's CPU per request; a
 * path lookup in a Map costs next to nothing.
 * Paths with parameters (`/v1/responses/:id`, `/v1/models/*`) are tried only when no exact path
 * matches. Matching follows Express's defaults: case-insensitive, one trailing slash allowed.
 */
import type { IncomingMessage } from 'node:http';
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

export interface Route {
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

const PARAMS = new WeakMap<IncomingMessage, Record<string, string>>();

/** The path parameters of the route that matched `req` (`:name` segments, `*` for the rest). */
export function routeParams(req: IncomingMessage): Record<string, string> {
  return PARAMS.get(req) ?? {};
}

interface Pattern {
  /** Lower-case literal segments, or `:name`, and a final `*`. */
  segments: string[];
  route: Route;
}

function decode(part: string): string | undefined {
  try {
    return decodeURIComponent(part);
  } catch {
    return undefined; // a malformed escape matches nothing
  }
}

function matchPattern(pattern: Pattern, parts: string[]): Record<string, string> | undefined {
  const { segments } = pattern;
  const rest = segments.at(-1) === '*';
  const fixed = rest ? segments.length - 1 : segments.length;
  if (rest ? parts.length <= fixed : parts.length !== fixed) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < fixed; i++) {
    const segment = segments[i];
    if (segment.startsWith(':')) {
      const value = decode(parts[i]);
      if (!value) return undefined;
      params[segment.slice(1)] = value;
    } else if (segment !== parts[i].toLowerCase()) {
      return undefined;
    }
  }
  if (rest) {
    const value = decode(parts.slice(fixed).join('/'));
    if (!value) return undefined;
    params['*'] = value;
  }
  return params;
}

/** One middleware serving `routes`; any other path goes on to the next layer. */
export function routes(table: Record<string, Route>): RequestHandler {
  const exact = new Map<string, Route>();
  const patterns: Pattern[] = [];
  for (const [path, route] of Object.entries(table)) {
    if (/[:*]/.test(path)) patterns.push({ segments: path.toLowerCase().split('/'), route });
    else exact.set(path.toLowerCase(), route);
  }
  return (req: Request, res: Response, next: NextFunction) => {
    const path = pathOf(req.url);
    let route = exact.get(path) ?? exact.get(path.toLowerCase());
    if (!route && patterns.length > 0) {
      const parts = path.split('/');
      for (const pattern of patterns) {
        const params = matchPattern(pattern, parts);
        if (params) {
          PARAMS.set(req, params);
          route = pattern.route;
          break;
        }
      }
    }
    if (!route) {
      next();
      return;
    }
    const handler = route.methods[req.method] ?? (req.method === 'HEAD' ? route.methods.GET : undefined) ?? route.otherwise;
    handler(req, res, next);
  };
}
