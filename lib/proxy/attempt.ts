/**
 * One attempt at one provider, up to the point where the client would see a byte: a plain answer
 * is read whole (so a failure can still move elsewhere), a 2xx event stream is handed back unread.
 */
import type { ClassifiedError } from '../errors/classify.js';
import { classifyError } from '../errors/classify.js';
import type { UpstreamResponse, UpstreamTransport } from '../transport/types.js';
import type { ResolvedProvider } from '../registry/types.js';
import { upstreamHeaders } from './headers.js';
import { readAll } from '../transport/read-all.js';
import { UpstreamCall } from './upstream-call.js';

export type AttemptResult =
  | { type: 'error'; call: UpstreamCall; classified: ClassifiedError }
  | { type: 'answer'; call: UpstreamCall; upstream: UpstreamResponse; bytes: Buffer }
  | { type: 'stream'; call: UpstreamCall; upstream: UpstreamResponse };

export interface AttemptInput {
  transport: UpstreamTransport;
  provider: ResolvedProvider;
  url: string;
  body: Buffer;
  requestId: string;
  stream: boolean;
  requestMs: number;
  ttftMs: number;
  /** Receives the call before it is sent, so the caller can abort it when the client leaves. */
  onCall: (call: UpstreamCall) => void;
  onHeaders: () => void;
}

function isEventStream(headers: UpstreamResponse['headers']): boolean {
  const type = headers['content-type'];
  return typeof type === 'string' && type.toLowerCase().startsWith('text/event-stream');
}

export async function runAttempt(input: AttemptInput): Promise<AttemptResult> {
  const call = new UpstreamCall(input.transport, {
    url: input.url,
    method: 'POST',
    headers: upstreamHeaders(input.provider, input.requestId),
    body: input.body,
  });
  input.onCall(call);
  // A stream's request deadline ends at the response headers; TTFT runs from the same start.
  call.deadline(input.stream ? Math.min(input.requestMs, input.ttftMs) : input.requestMs, 'answer in time');
  try {
    const upstream = await call.send();
    input.onHeaders();
    if (upstream.status < 300 && isEventStream(upstream.headers)) {
      call.clearDeadline(); // from here the stream's own clocks (TTFT, idle) govern
      return { type: 'stream', call, upstream };
    }
    if (input.stream) {
      call.deadline(input.requestMs + input.ttftMs, 'send its answer');
    }
    const bytes = await readAll(upstream.body);
    call.clearDeadline();
    return { type: 'answer', call, upstream, bytes };
  } catch (error) {
    call.clearDeadline();
    return { type: 'error', call, classified: classifyError(call.causeOf(error)) };
  }
}
