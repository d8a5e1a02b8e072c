/**
 * One structured log entry per request, written when the response finishes or the client goes
 * away. Plain responses carry `duration`; streams (response `Content-Type: text/event-stream`)
 * carry `ttfb`, `ttft` and `stream_duration` instead, since a stream's "duration" at header time
 * is really its time to first byte.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { RequestContext } from '../http/request-state.js';
import { requestContext } from '../http/request-state.js';

/** The part of a winston logger this middleware uses. */
export interface LogSink {
  log(level: string, message: string, meta: Record<string, unknown>): unknown;
}

export interface RequestLoggerOptions {
  logger: LogSink;
}

export type NodeMiddleware<Req extends IncomingMessage = IncomingMessage, Res extends ServerResponse = ServerResponse> = (
  req: Req,
  res: Res,
  next: (err?: unknown) => void,
) => void;

const round = (ms: number): number => Math.round(ms * 10) / 10;

function levelFor(status: number, context: RequestContext): 'info' | 'warn' | 'error' {
  if (status >= 500) {
    return 'error';
  }
  if (status === 499) {
    return 'info';
  }
  return status >= 400 || context.streamError ? 'warn' : 'info';
}

function pathOf(req: IncomingMessage): string {
  // Express rewrites req.url inside routers; originalUrl is what the host app received.
  const url = (req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url ?? '/';
  const query = url.indexOf('?');
  const end = query === -1 ? url.length : query;
  if (url.charCodeAt(0) !== 0x2f) {
    // A target in absolute form (`http://host/path`): the path alone, as for any other request.
    const scheme = url.indexOf('://');
    if (scheme !== -1 && scheme < end) {
      const slash = url.indexOf('/', scheme + 3);
      return slash === -1 || slash > end ? '/' : url.slice(slash, end);
    }
  }
  return url.slice(0, end);
}

/** Builds the entry; exported for tests and for hosts that log elsewhere. */
export function buildLogEntry(req: IncomingMessage, res: ServerResponse, context: RequestContext, endedAt: number) {
  const completed = res.writableFinished;
  const status = context.status ?? (completed ? res.statusCode : 499);
  const meta: Record<string, unknown> = {
    method: req.method,
    path: pathOf(req),
    status,
    request_id: context.requestId,
  };
  if (context.provider !== undefined) meta.provider = context.provider;
  if (context.model !== undefined) meta.model = context.model;
  if (context.upstreamModel !== undefined) meta.upstream_model = context.upstreamModel;
  const errorKind = context.errorKind ?? (status === 499 ? 'client_disconnect' : undefined);
  if (errorKind !== undefined) meta.error_kind = errorKind;
  if (context.streamError !== undefined) meta.stream_error = context.streamError;
  if (context.attempts !== undefined) meta.attempts = context.attempts;
  if (context.failedAttempts?.length) meta.failed_attempts = context.failedAttempts;

  const contentType = res.getHeader('content-type') ?? context.contentType;
  const streaming = typeof contentType === 'string' && contentType.toLowerCase().startsWith('text/event-stream');
  if (streaming && res.headersSent) {
    meta.ttfb = round((context.headersSentAt ?? endedAt) - context.startedAt);
    if (context.firstChunkAt !== undefined) meta.ttft = round(context.firstChunkAt - context.startedAt);
    meta.stream_duration = round((context.streamEndedAt ?? endedAt) - context.startedAt);
  } else {
    meta.duration = round(endedAt - context.startedAt);
  }
  const message = `${req.method} ${meta.path} ${status}`;
  return { level: levelFor(status, context), message, meta };
}

/** The content-type among `writeHead` arguments: an object, or a flat or nested array of pairs. */
function contentTypeIn(args: unknown[]): string | undefined {
  const headers = args.at(-1);
  if (Array.isArray(headers)) {
    const flat = headers.flat();
    for (let i = 0; i + 1 < flat.length; i += 2) {
      if (String(flat[i]).toLowerCase() === 'content-type') return String(flat[i + 1]);
    }
  } else if (headers !== null && typeof headers === 'object') {
    for (const [name, value] of Object.entries(headers)) {
      if (name.toLowerCase() === 'content-type') return String(value);
    }
  }
  return undefined;
}

/**
 * Records when headers leave, for `ttfb`, and the content-type they carried: headers given to
 * `writeHead(status, headers)` never show up in `res.getHeader()`. `_implicitHeader` and
 * `flushHeaders` go through writeHead too.
 */
function watchHeaders(res: ServerResponse, context: RequestContext): void {
  const writeHead = res.writeHead;
  res.writeHead = function (this: ServerResponse, ...args: Parameters<ServerResponse['writeHead']>) {
    context.headersSentAt ??= performance.now();
    context.contentType ??= contentTypeIn(args);
    return writeHead.apply(this, args);
  } as ServerResponse['writeHead'];
}

/**
 * Request logging middleware on `node:http` types: mount it app-wide, or let the router use it.
 *
 * @example
 * app.use(requestLogger({ logger: winston.createLogger({ transports: [new winston.transports.Console()] }) }));
 */
export function requestLogger(options: RequestLoggerOptions): NodeMiddleware {
  const { logger } = options;
  if (!logger || typeof logger.log !== 'function') {
    throw new TypeError('express-llm-proxy: requestLogger option `logger` must be a winston logger (an object with log())');
  }
  return loggerMiddleware(logger, true);
}

/**
 * The router's own logger. Every answer the router makes sets its content-type with `setHeader`,
 * and its SSE pipe records when headers leave, so `writeHead` needs no wrapper: wrapping it adds a
 * property to the response, which costs about 6 µs once Express has swapped the prototype.
 */
export function routerRequestLogger(logger: LogSink): NodeMiddleware {
  return loggerMiddleware(logger, false);
}

function loggerMiddleware(logger: LogSink, watchWriteHead: boolean): NodeMiddleware {
  return (req, res, next) => {
    const context = requestContext(req);
    if (context.logged) {
      next(); // an outer requestLogger already owns this request
      return;
    }
    context.logged = true;
    if (watchWriteHead) watchHeaders(res, context);
    const done = (): void => {
      res.removeListener('finish', done);
      res.removeListener('close', done);
      res.removeListener('error', done);
      const endedAt = performance.now();
      // 'finish' can fire in the same tick the proxy ends a stream, before it has recorded why
      // (stream_error, 499); build the entry once that bookkeeping has run.
      setImmediate(() => {
        try {
          const { level, message, meta } = buildLogEntry(req, res, context, endedAt);
          const result = logger.log(level, message, meta);
          if (typeof (result as PromiseLike<unknown> | undefined)?.then === 'function') {
            Promise.resolve(result).catch(() => {}); // an async sink's rejection is contained too
          }
        } catch {
          // A logger that throws must never break the request path.
        }
      });
    };
    res.once('finish', done);
    res.once('close', done);
    res.once('error', done);
    next();
  };
}
