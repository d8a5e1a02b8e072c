/**
 * The proxy's state of one request: created once when the request reaches the router (or a
 * host-wide request logger), filled in by the proxy as it learns things, read by the logger.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { ErrorKind } from '../errors/classify.js';
import type { ClientConnection } from './client-connection.js';
import type { Usage } from '../usage/types.js';

/**
 * The state lives on the request under a registered symbol (so two copies of the library, a
 * CommonJS and an ESM one, say, still share it), not in a WeakMap: a state reaches its request
 * again (through the observation, the end listener), and V8's minor GCs keep a WeakMap entry whose
 * value leads back to its key alive, with everything both reach, until the next full GC. With
 * metrics on, that promoted about 0.6 MB more per scavenge in the in-process bench, and made minor
 * GCs cost 17 instead of 12 µs per request. (Express gives each request a hidden class of its own,
 * so the property copies it: about 1.2 kB more allocated per request, no difference in CPU or in
 * GC time measured in one process against a WeakMap whose states were kept from leading back.)
 */
const STATE = Symbol.for('express-llm-proxy.request-state');

type WithState = IncomingMessage & { [STATE]?: RequestState };

export interface FailedAttempt {
  provider: string;
  error_kind?: ErrorKind;
  status?: number;
}

export interface RequestState {
  readonly requestId: string;
  /** `performance.now()` when the request arrived. */
  readonly startedAt: number;
  /** Set when a request logger owns this request (so a second one stays quiet). */
  logged: boolean;
  /** The API of the route (`chat`, `embeddings`, ...). */
  api?: string;
  /** Who the caller is, as the `apiKeys` predicate named it; logged as `client`, the default per-client limit key. */
  client?: string;
  provider?: string;
  model?: string;
  upstreamModel?: string;
  errorKind?: ErrorKind;
  /** Status to log when it differs from what went out (499 for a client that left). */
  status?: number;
  /** The content-type passed to `writeHead(status, headers)`, which `getHeader()` cannot see. */
  contentType?: string;
  /** `performance.now()` marks. */
  upstreamSentAt?: number;
  upstreamHeadersAt?: number;
  headersSentAt?: number;
  firstChunkAt?: number;
  streamEndedAt?: number;
  /** Why a stream ended early (`ttft_timeout`, `stream_idle_timeout`, `upstream_stream_error`, ...). */
  streamError?: string;
  attempts?: number;
  failedAttempts?: FailedAttempt[];
  /** Token usage as the upstream reported it. */
  usage?: Usage;
  /** The one close watcher of the response, when the router made it before the handler. */
  connection?: ClientConnection;
  /** The log level when the status alone would give the wrong one. */
  logLevel?: 'info' | 'warn' | 'error';
  /** Set when the router observes requests (metrics, tracing, hooks): told when the request is over. */
  observation?: RequestObservationEnd;
  /** The router read the body whole (with a declared length, a moment before Node marks the request complete). */
  bodyRead?: boolean;
}

/** What the end of a request tells its observation (see lib/observe/observer.ts). */
export interface RequestObservationEnd {
  /** True when some provider maps the model the client asked for (so it may label a metric). */
  readonly modelServed: boolean;
  ended(status: number, error: string | undefined, usage: Usage | undefined): void;
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** Keeps a well-formed incoming `x-request-id`; anything else is replaced by a UUID. */
export function requestIdFrom(req: IncomingMessage): string {
  const incoming = req.headers['x-request-id'];
  return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

/** The request's state when something made it already. */
export function existingRequestState(req: IncomingMessage): RequestState | undefined {
  return (req as WithState)[STATE];
}

/** The request's state, created on first use. */
export function requestState(req: IncomingMessage): RequestState {
  return ((req as WithState)[STATE] ??= { requestId: requestIdFrom(req), startedAt: performance.now(), logged: false });
}
