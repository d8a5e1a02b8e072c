/**
 * One structured log entry per request, written when the response finishes or the client goes
 * away. Plain responses carry `duration`; streams (response `Content-Type: text/event-stream`)
 * carry `ttfb`, `ttft` and `stream_duration` instead, since a stream's "duration" at header time
 * is really its time to first byte.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { RequestState } from '../http/request-state.js';
import { ClientConnection } from '../http/client-connection.js';
import { requestState } from '../http/request-state.js';
import type { Logger, LogSink } from './logger.js';
import { toLogSink } from './logger.js';

export type { LogSink } from './logger.js';

export interface RequestLoggerOptions {
  /** A winston or pino logger, `console`, or any object with `info`/`warn`/`error` (see `Logger`). */
  logger: Logger;
}

export type NodeMiddleware<Req extends IncomingMessage = IncomingMessage, Res extends ServerResponse = ServerResponse> = (
  req: Req,
  res: Res,
  next: (err?: unknown) => void,
) => void;

const round = (ms: number): number => Math.round(ms * 10) / 10;

function levelFor(status: number, state: RequestState): 'info' | 'warn' | 'error' {
  if (state.logLevel !== undefined) return state.logLevel;
  if (status >= 500) {
    return 'error';
  }
  if (status === 499) {
    return 'info';
  }
  return status >= 400 || state.streamError ? 'warn' : 'info';
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

/** The status a request ended with, as its log entry says: 499 when the client left first. */
export function statusOf(res: ServerResponse, state: RequestState): number {
  return state.status ?? (res.writableFinished ? res.statusCode : 499);
}

/** The level of the request's entry (computed before the entry, so a level the logger drops costs nothing). */
export function entryLevel(res: ServerResponse, state: RequestState): 'info' | 'warn' | 'error' {
  return levelFor(statusOf(res, state), state);
}

/** False when `logger` drops entries at `level`. */
export function logsAt(logger: LogSink, level: string): boolean {
  return logger.isLevelEnabled === undefined || logger.isLevelEnabled(level);
}

/** Builds the entry from the request's state once it is over. */
export function buildLogEntry(req: IncomingMessage, res: ServerResponse, state: RequestState, endedAt: number) {
  const status = statusOf(res, state);
  const meta: Record<string, unknown> = {
    method: req.method,
    path: pathOf(req),
    status,
    request_id: state.requestId,
  };
  if (state.api !== undefined) meta.api = state.api;
  if (state.provider !== undefined) meta.provider = state.provider;
  if (state.model !== undefined) meta.model = state.model;
  if (state.upstreamModel !== undefined) meta.upstream_model = state.upstreamModel;
  const errorKind = state.errorKind ?? (status === 499 ? 'client_disconnect' : undefined);
  if (errorKind !== undefined) meta.error_kind = errorKind;
  if (state.streamError !== undefined) meta.stream_error = state.streamError;
  if (state.attempts !== undefined) meta.attempts = state.attempts;
  if (state.failedAttempts?.length) meta.failed_attempts = state.failedAttempts;
  if (state.usage !== undefined) meta.usage = state.usage;
  if (state.client !== undefined) meta.client = state.client;

  const contentType = res.getHeader('content-type') ?? state.contentType;
  const streaming = typeof contentType === 'string' && contentType.toLowerCase().startsWith('text/event-stream');
  if (streaming && res.headersSent) {
    meta.ttfb = round((state.headersSentAt ?? endedAt) - state.startedAt);
    if (state.firstChunkAt !== undefined) meta.ttft = round(state.firstChunkAt - state.startedAt);
    meta.stream_duration = round((state.streamEndedAt ?? endedAt) - state.startedAt);
  } else {
    meta.duration = round(endedAt - state.startedAt);
  }
  const message = `${req.method} ${meta.path} ${status}`;
  return { level: levelFor(status, state), message, meta };
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
function watchHeaders(res: ServerResponse, state: RequestState): void {
  const writeHead = res.writeHead;
  res.writeHead = function (this: ServerResponse, ...args: Parameters<ServerResponse['writeHead']>) {
    state.headersSentAt ??= performance.now();
    state.contentType ??= contentTypeIn(args);
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
  return endWatcher(writeLog(toLogSink(options?.logger, 'logger')), true, false, true);
}

/**
 * The router's own logger. Every answer the router makes sets its content-type with `setHeader`,
 * and its SSE pipe records when headers leave, so `writeHead` needs no wrapper: wrapping it adds a
 * property to the response, which costs about 6 µs once Express has swapped the prototype.
 */
export function routerRequestLogger(logger: LogSink): NodeMiddleware {
  return endWatcher(writeLog(logger), true, false, false);
}

/**
 * What runs once a request is over, one event-loop turn after it ended. `logs` is true when this
 * watcher writes the request's log entry (it logs, and no outer `requestLogger` already does).
 */
export type RequestEndHandler = (req: IncomingMessage, res: ServerResponse, state: RequestState, endedAt: number, logs: boolean) => void;

/**
 * The router's end-of-request watcher when more than the log wants to know (metrics, tracing,
 * `onFinish`): `onEnd` runs for every request, `logs` telling it whether to log (`log`, and no
 * outer `requestLogger` owns the request).
 */
export function routerRequestWatcher(onEnd: RequestEndHandler, log: boolean): NodeMiddleware {
  return endWatcher(onEnd, log, true, false);
}

/** Writes one entry to `logger`; a sink that throws or rejects is contained. */
export function writeLogEntry(logger: LogSink, entry: ReturnType<typeof buildLogEntry>): void {
  try {
    const result = logger.log(entry.level, entry.message, entry.meta);
    if (typeof (result as PromiseLike<unknown> | undefined)?.then === 'function') {
      Promise.resolve(result).catch(() => {}); // an async sink's rejection is contained too
    }
  } catch {
    // A logger that throws must never break the request path.
  }
}

function writeLog(logger: LogSink): RequestEndHandler {
  return (req, res, state, endedAt) => {
    if (logsAt(logger, entryLevel(res, state))) writeLogEntry(logger, buildLogEntry(req, res, state, endedAt));
  };
}

/**
 * Runs `onEnd` once the response is over. The router's own watcher rides on the request's one
 * close watcher (`ClientConnection`, which the handler then shares and holds while it works), so a
 * request costs one listener; the host-wide `requestLogger` listens for itself.
 */
function endWatcher(onEnd: RequestEndHandler, log: boolean, always: boolean, hostWide: boolean): NodeMiddleware {
  return (req, res, next) => {
    const state = requestState(req);
    const logs = log && !state.logged; // else an outer requestLogger already owns this request
    if (!logs && !always) {
      next();
      return;
    }
    if (logs) {
      state.logged = true;
      if (hostWide) watchHeaders(res, state);
    }
    const ended = (endedAt: number): void => {
      try {
        onEnd(req, res, state, endedAt, logs);
      } catch {
        // Nothing that runs at the end of a request may break the request path.
      }
    };
    if (hostWide) {
      // Outside the router nothing holds the end until the proxy has recorded why the response
      // ended (it can be over in the same tick the proxy ends a stream): the entry is built one
      // event-loop turn later, once that bookkeeping has run.
      const done = (): void => {
        res.removeListener('finish', done);
        res.removeListener('close', done);
        res.removeListener('error', done);
        const endedAt = performance.now();
        setImmediate(() => ended(endedAt));
      };
      res.once('finish', done);
      res.once('close', done);
      res.once('error', done);
    } else {
      (state.connection ??= new ClientConnection(res)).onEnd(ended);
    }
    next();
  };
}
