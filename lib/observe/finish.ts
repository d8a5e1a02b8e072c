/**
 * The end of a request, one event-loop turn after it ended (off its path): the log entry is built
 * once, with `logFields` merged in, and goes to the log and to `hooks.onFinish`; the metrics get
 * the request's figures; its trace ends. Each part runs only when its feature is on.
 */
import type { ServerResponse } from 'node:http';
import type { Request } from 'express';
import type { RequestState } from '../http/request-state.js';
import type { LogSink } from '../logging/logger.js';
import type { RequestEndHandler } from '../logging/request-logger.js';
import { buildLogEntry, entryLevel, logsAt, statusOf, writeLogEntry } from '../logging/request-logger.js';
import type { ProxyMetrics, RequestFinishedEvent } from '../metrics/types.js';
import type { FinishHookEntry, LogFieldsFunction } from './hooks.js';
import { callHook, reportHookError } from './hooks.js';

export interface FinishOptions {
  /** Where the request log goes (the router's logger); hook failures are reported there too. */
  logger: LogSink;
  onFinish: ((entry: FinishHookEntry) => unknown) | undefined;
  logFields: LogFieldsFunction | undefined;
  metrics: ProxyMetrics | undefined;
}

/** A short, low-cardinality code for a request that failed; undefined when it did not. */
function errorOf(state: RequestState, status: number): string | undefined {
  return state.streamError ?? state.errorKind ?? (status === 499 ? 'client_disconnect' : undefined);
}

/** The request's figures for the metrics; labels that would take any value a client sends fall back to `none`/`unknown`. */
export function finishedEvent(api: string, state: RequestState, status: number, endedAt: number): RequestFinishedEvent {
  const { startedAt } = state;
  const served = state.provider !== undefined || state.observation?.modelServed === true;
  const stream = state.streamEndedAt !== undefined;
  const event: RequestFinishedEvent = {
    api,
    provider: state.provider ?? 'none',
    model: served && state.model !== undefined ? state.model : 'unknown',
    status,
    stream,
    durationS: ((stream ? state.streamEndedAt! : endedAt) - startedAt) / 1000,
  };
  if (state.firstChunkAt !== undefined) event.ttftS = (state.firstChunkAt - startedAt) / 1000;
  // server-timing's `proxy` part: from the request's arrival to its (last) upstream request.
  if (state.upstreamSentAt !== undefined) event.overheadS = (state.upstreamSentAt - startedAt) / 1000;
  if (state.usage !== undefined) event.usage = state.usage;
  const error = errorOf(state, status);
  if (error !== undefined) event.error = error;
  return event;
}

/** `logFields(req)`, merged under the entry's own fields (the proxy's figures stay true). */
function addFields(meta: Record<string, unknown>, logFields: LogFieldsFunction, req: Request, logger: LogSink, requestId: string): void {
  let fields: unknown;
  try {
    fields = logFields(req);
  } catch (error) {
    reportHookError(logger, 'logFields', error, requestId);
    return;
  }
  if (typeof fields !== 'object' || fields === null) return;
  for (const key of Object.keys(fields)) {
    if (!Object.hasOwn(meta, key)) meta[key] = (fields as Record<string, unknown>)[key];
  }
}

export function requestFinisher(options: FinishOptions): RequestEndHandler {
  const { logger, onFinish, logFields, metrics } = options;
  return (req, res: ServerResponse, state, endedAt, logs) => {
    const logged = logs && logsAt(logger, entryLevel(res, state)); // a level the logger drops costs nothing
    if (logged || onFinish) {
      const entry = buildLogEntry(req, res, state, endedAt);
      if (logFields) addFields(entry.meta, logFields, req as Request, logger, state.requestId);
      if (logged) writeLogEntry(logger, entry);
      if (onFinish) {
        const finished = { ...entry.meta, level: entry.level, message: entry.message, req } as FinishHookEntry;
        callHook(logger, 'hooks.onFinish', onFinish, finished, state.requestId);
      }
    }
    const { api, observation } = state;
    if (metrics === undefined && observation === undefined) return;
    const status = statusOf(res, state);
    if (metrics && api !== undefined) {
      metrics.requestFinished(finishedEvent(api, state, status, endedAt));
      if (status === 499) metrics.clientDisconnected(api);
    }
    observation?.ended(status, errorOf(state, status), state.usage);
  };
}
