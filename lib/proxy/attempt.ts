/**
 * One attempt at one provider, up to the point where the client would see a byte. An answer that
 * may still fail over (an error status, a status in `retry.onStatus`) or that the proxy decoded is
 * read whole, within `maxResponseBytes`. A 2xx event stream is handed back unread; any other 2xx
 * answer is read whole when it is small, else handed back with its first chunks, to be forwarded
 * as the rest arrives.
 */
import type { ClassifiedError } from '../errors/classify.js';
import { classifyError } from '../errors/classify.js';
import { readAll } from '../transport/read-all.js';
import { readHead } from '../transport/read-head.js';
import type { UpstreamResponse, UpstreamTransport } from '../transport/types.js';
import { UpstreamCall } from './upstream-call.js';

export type AttemptResult =
  | { type: 'error'; call: UpstreamCall; classified: ClassifiedError }
  | { type: 'answer'; call: UpstreamCall; upstream: UpstreamResponse; bytes: Buffer }
  | { type: 'forward'; call: UpstreamCall; upstream: UpstreamResponse; head: Buffer[] }
  | { type: 'stream'; call: UpstreamCall; upstream: UpstreamResponse };

/** A 2xx answer larger than this is forwarded as it arrives rather than read whole. */
export const FORWARD_AFTER_BYTES = 256 * 1024;

export interface AttemptInput {
  transport: UpstreamTransport;
  method: 'POST' | 'GET' | 'DELETE';
  url: string;
  headers: Record<string, string>;
  body: Buffer | undefined;
  /** The client asked for a stream: until the headers the deadline is the shorter of the two. */
  stream: boolean;
  requestMs: number;
  ttftMs: number;
  /** An event stream passed on opaque: the longest the upstream may send nothing (or the client read nothing). */
  streamIdleMs: number;
  /** The most read of an answer held whole; past it the attempt fails with `response_too_large`. */
  maxResponseBytes: number;
  /** True for a status that could still move the request elsewhere. */
  mayFailOver: (status: number) => boolean;
  /** Receives the call before it is sent, so the caller can abort it when the client leaves. */
  onCall: (call: UpstreamCall) => void;
  /** The upstream's response headers arrived (before its body is read). */
  onHeaders: (upstream: UpstreamResponse) => void;
}

function isEventStream(headers: UpstreamResponse['headers']): boolean {
  const type = headers['content-type'];
  return typeof type === 'string' && type.toLowerCase().startsWith('text/event-stream');
}

export async function runAttempt(input: AttemptInput): Promise<AttemptResult> {
  const call = new UpstreamCall(input.transport, { url: input.url, method: input.method, headers: input.headers, body: input.body });
  input.onCall(call);
  // A stream's request deadline ends at the response headers; TTFT runs from the same start.
  call.deadline(input.stream ? Math.min(input.requestMs, input.ttftMs) : input.requestMs, 'answer in time');
  try {
    const upstream = await call.send();
    input.onHeaders(upstream);
    const { status } = upstream;
    if (status >= 200 && status < 300 && isEventStream(upstream.headers)) {
      if (upstream.headers['content-encoding'] !== undefined) {
        // Left encoded (a coding the proxy cannot undo): passed on as opaque bytes, since a
        // heartbeat or an error event written into it would corrupt it. A stream may run for
        // long, so only an idle deadline bounds it; a client that stops reading stops the
        // upstream's progress as well, and meets the same deadline.
        call.idleDeadline(input.streamIdleMs, 'send more of its stream');
        return { type: 'forward', call, upstream, head: [] };
      }
      call.clearDeadline(); // from here the stream's own clocks (TTFT, idle) govern
      return { type: 'stream', call, upstream };
    }
    if (input.stream) {
      call.deadline(input.requestMs + input.ttftMs, 'send its answer');
    }
    if (status >= 200 && status < 300 && upstream.decodedFrom === undefined && !input.mayFailOver(status)) {
      const head = readHead(upstream.body, FORWARD_AFTER_BYTES);
      const read = head instanceof Promise ? await head : head;
      // A forwarded body keeps its deadline until it has passed.
      if (!read.complete) return { type: 'forward', call, upstream, head: read.head };
      call.clearDeadline();
      return { type: 'answer', call, upstream, bytes: read.bytes };
    }
    const all = readAll(upstream.body, input.maxResponseBytes);
    const bytes = all instanceof Promise ? await all : all;
    call.clearDeadline();
    return { type: 'answer', call, upstream, bytes };
  } catch (error) {
    call.clearDeadline();
    return { type: 'error', call, classified: classifyError(call.causeOf(error)) };
  }
}
