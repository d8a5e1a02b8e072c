/**
 * The hooks a host can give the router (`hooks`, `logFields`): their events, typed, and the one
 * guard every call goes through. A hook that throws or rejects is logged at `error` and the
 * request carries on (only `onRequest` can change its answer: a throw there is a 500 `hook_error`).
 */
import type { Request } from 'express';
import type { LogSink } from '../logging/logger.js';
import type { FailedAttempt } from '../http/request-state.js';
import type { Usage } from '../usage/types.js';

/** What `hooks.onRequest` gets: after client auth, rate limits and body parsing, before a provider is chosen. */
export interface RequestHookEvent {
  readonly req: Request;
  /** The route's API: `chat`, `completions`, `embeddings`, `responses`, `messages`. */
  readonly api: string;
  /** The model the client asked for. */
  readonly model: string;
  /** Whether the client asked for a stream. */
  readonly stream: boolean;
  /** The parsed JSON body, read-only: what goes upstream is the client's own bytes, whatever is done to this. */
  readonly body: Readonly<Record<string, unknown>>;
  /** The request's `x-request-id` (also sent upstream). */
  readonly requestId: string;
  /** The caller's identity when an `apiKeys` predicate named one. */
  readonly client: string | undefined;
  /** Adds a header to every upstream attempt of this request (it overrides the provider's own). */
  setUpstreamHeader(name: string, value: string): void;
  /**
   * Answers the request with `status` (400-599) and `message` in the API's error envelope (code
   * `request_rejected`) once the hook returns; nothing goes upstream.
   */
  reject(status: number, message: string): void;
}

/** What `hooks.onResponse` gets when an attempt's upstream response headers arrive. */
export interface ResponseHookEvent {
  readonly req: Request;
  readonly api: string;
  /** The model the client asked for. */
  readonly model: string;
  readonly requestId: string;
  /** The key of the provider that answered. */
  readonly provider: string;
  /** The upstream's status. */
  readonly status: number;
  /** The upstream's response headers (lower-case names), as received. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** 1 for the first attempt, 2 for the first retry or failover, ... */
  readonly attempt: number;
}

/** The fields of a request's log entry (plus whatever `logFields` adds). */
export interface RequestLogEntry {
  method: string | undefined;
  path: string;
  /** The status the client got; 499 when it left first. */
  status: number;
  request_id: string;
  api?: string;
  provider?: string;
  /** The model the client asked for. */
  model?: string;
  upstream_model?: string;
  /** `connection`, `timeout`, `request`, `response_too_large`, `client_disconnect`. */
  error_kind?: string;
  /** Why a stream ended early (`ttft_timeout`, `stream_idle_timeout`, `upstream_stream_error`, ...). */
  stream_error?: string;
  attempts?: number;
  failed_attempts?: FailedAttempt[];
  /** Token usage as the upstream reported it; absent when it reported none. */
  usage?: Usage;
  /** The caller's identity when an `apiKeys` predicate named one. */
  client?: string;
  /** Milliseconds, for answers that are not streams. */
  duration?: number;
  /** Milliseconds to the response headers, to the first data event, to the stream's end: streams. */
  ttfb?: number;
  ttft?: number;
  stream_duration?: number;
  [field: string]: unknown;
}

/** What `hooks.onFinish` gets: the request's log entry, its level and message, and the request. */
export interface FinishHookEntry extends RequestLogEntry {
  level: 'info' | 'warn' | 'error';
  message: string;
  req: Request;
}

export interface LlmProxyHooks {
  /**
   * Before a provider is chosen: inspect the request, add upstream headers, or `reject()` it. May
   * be async (the request waits for it). A throw or rejection answers 500 `hook_error`.
   */
  onRequest?: ((event: RequestHookEvent) => void | Promise<void>) | undefined;
  /** When an attempt's upstream headers arrive (every attempt). Not awaited. */
  onResponse?: ((event: ResponseHookEvent) => unknown) | undefined;
  /** Once per request after it ended, whatever its status. Not awaited. */
  onFinish?: ((entry: FinishHookEntry) => unknown) | undefined;
}

/** Extra fields for a request's log entry and `onFinish` entry (a tenant, a user); called once the request ended. */
export type LogFieldsFunction = (req: Request) => Record<string, unknown> | undefined;

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** Logs a hook's failure at `error`; never throws. */
export function reportHookError(logger: LogSink, hook: string, error: unknown, requestId: string | undefined): void {
  try {
    logger.log('error', `${hook} threw`, { error: messageOf(error), request_id: requestId });
  } catch {
    // a logger that throws must not reach the request either
  }
}

/**
 * Calls a hook whose result nobody waits for: a throw or a rejection is reported, nothing else
 * happens. The call itself is synchronous, so it sees the event as it is now.
 */
export function callHook<T>(logger: LogSink, name: string, hook: (event: T) => unknown, event: T, requestId: string | undefined): void {
  try {
    const result = hook(event);
    if (typeof (result as PromiseLike<unknown> | undefined)?.then === 'function') {
      Promise.resolve(result).catch((error: unknown) => reportHookError(logger, name, error, requestId));
    }
  } catch (error) {
    reportHookError(logger, name, error, requestId);
  }
}
