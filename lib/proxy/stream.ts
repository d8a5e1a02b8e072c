/** Delivering a 2xx event stream through the SSE pipe, and what its end means for the provider. */
import type { ServerResponse } from 'node:http';
import type { Api, StreamTapHooks } from '../apis/api.js';
import type { RequestState } from '../http/request-state.js';
import { pipeSse } from '../sse/pipe.js';
import type { ClientWatch, SseEndReason, StopWatch } from '../sse/pipe.js';
import type { AttemptResult } from './attempt.js';
import { startResponse } from './deliver.js';
import type { ProxyTimeouts } from './config.js';
import type { UsageReader } from '../usage/readers.js';

export interface StreamContext {
  api: Api;
  /** Set when the stream's token usage is wanted. */
  usage: UsageReader | undefined;
  client: ClientWatch;
  shutdown: StopWatch;
  timeouts: ProxyTimeouts;
  heartbeatMs: number;
  /** What the API's stream tap reports (the id of a response the stream creates). */
  hooks: StreamTapHooks;
}

/** How a stream's end counts for the breaker: `release` when it says nothing about the provider. */
export type StreamVerdict = 'success' | 'failure' | 'release';

const VERDICTS: Record<SseEndReason, StreamVerdict> = {
  done: 'success',
  ttft_timeout: 'failure',
  stream_idle_timeout: 'failure',
  upstream_stream_error: 'failure',
  stream_max_duration: 'release',
  proxy_closed: 'release',
  client_closed: 'release',
  client_stalled: 'release',
};

type Observer = ((chunk: Buffer) => void) | undefined;

/** One callback for the pipe out of up to two, or none when neither is there. */
function observe(first: Observer, second: Observer): Observer {
  if (!first || !second) return first ?? second;
  return (chunk) => {
    first(chunk);
    second(chunk);
  };
}

export async function deliverStream(
  res: ServerResponse,
  result: Extract<AttemptResult, { type: 'stream' }>,
  state: RequestState,
  providerKey: string,
  context: StreamContext,
): Promise<StreamVerdict> {
  const { call } = result;
  const { timeouts } = context;
  const tap = context.api.streamTap(context.hooks);
  const usage = context.usage?.stream();
  startResponse(res, result, state, providerKey);
  const outcome = await pipeSse(result.upstream.body, res, {
    startedAt: call.sentAt,
    ttftMs: timeouts.ttftMs,
    idleMs: timeouts.streamIdleMs,
    maxMs: timeouts.streamMaxMs,
    heartbeatMs: context.heartbeatMs,
    client: context.client,
    stop: context.shutdown,
    errorEvent: (code, message) => tap.errorEvent(code, message),
    onChunk: observe(tap.chunk?.bind(tap), usage && ((chunk: Buffer) => usage.push(chunk))),
    abort: (reason) => (reason === 'client_closed' ? call.clientGone() : call.abort(new Error(reason))),
    onHeaders: () => {
      state.headersSentAt ??= performance.now();
    },
    onFirstData: () => {
      state.firstChunkAt = performance.now();
    },
  });
  state.streamEndedAt = performance.now();
  if (usage) state.usage = usage.result();
  if (outcome.reason === 'done' && tap.upstreamFailed) {
    // The upstream said it failed (an `error` event, `response.failed`) and ended the stream: the
    // client has its words; the provider gets the blame.
    state.streamError = 'upstream_error_event';
    return 'failure';
  }
  if (outcome.reason === 'client_closed') {
    state.status = 499;
    state.errorKind = 'client_disconnect';
  } else if (outcome.reason !== 'done') {
    state.streamError = outcome.reason;
    if (outcome.reason === 'client_stalled') state.status = res.statusCode; // we closed it, the client did not leave
  }
  return VERDICTS[outcome.reason];
}
