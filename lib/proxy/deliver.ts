/**
 * Writing an attempt's outcome to the client: an upstream answer with its status and bytes (read
 * whole, or forwarded as it arrives), an event stream through the SSE pipe, or the proxy's own
 * error in the API's envelope.
 */
import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { Api } from '../apis/api.js';
import type { ClassifiedError } from '../errors/classify.js';
import type { HttpError } from '../errors/openai-error.js';
import type { RequestState } from '../http/request-state.js';
import type { UsageReader } from '../usage/readers.js';
import { sendJson } from '../http/respond.js';
import type { AttemptResult } from './attempt.js';
import { copyResponseHeaders } from './response-headers.js';

type Answered = Exclude<AttemptResult, { type: 'error' }>;

/** Sends a proxy-made error in the API's envelope. */
export function sendError(res: ServerResponse, api: Api, error: HttpError): void {
  sendJson(res, error.status, api.errorBody(error.status, error.body.error), error.headers);
}

/** Sends a classified network error (502, 504) in the API's envelope. */
export function sendNetworkError(res: ServerResponse, api: Api, classified: ClassifiedError, state: RequestState): void {
  state.errorKind = classified.kind;
  const fields = { message: classified.message, type: 'proxy_error', param: null, code: classified.code };
  sendJson(res, classified.status, api.errorBody(classified.status, fields), { 'x-llm-proxy-attempts': String(state.attempts ?? 1) });
}

/** Starts the response with the upstream's status and safe headers, plus the proxy's own. */
export function startResponse(res: ServerResponse, result: Answered, state: RequestState, providerKey: string): void {
  const { call, upstream } = result;
  res.statusCode = upstream.status;
  copyResponseHeaders(res, upstream.headers);
  const headersAt = state.upstreamHeadersAt ?? performance.now();
  res.setHeader('server-timing', `proxy;dur=${(call.sentAt - state.startedAt).toFixed(1)}, upstream;dur=${(headersAt - call.sentAt).toFixed(1)}`);
  res.setHeader('x-llm-proxy-provider', providerKey);
  res.setHeader('x-llm-proxy-attempts', String(state.attempts ?? 1));
}

const is2xx = (status: number): boolean => status >= 200 && status < 300;

/** An answer read whole: one write with its length; then its usage, when wanted. */
export function sendAnswer(res: ServerResponse, result: Extract<AttemptResult, { type: 'answer' }>, state: RequestState, providerKey: string, usage: UsageReader | undefined): void {
  startResponse(res, result, state, providerKey);
  res.setHeader('content-length', result.bytes.length);
  res.end(result.bytes);
  if (usage && is2xx(result.upstream.status)) {
    const tap = usage.json();
    tap.push(result.bytes);
    state.usage = tap.result();
  }
}

/**
 * Forwards a large body: the chunks already read, then the rest as it arrives, holding no more
 * than the sockets do. Resolves with the error that cut it short (the client then sees a
 * truncated answer), or undefined.
 */
export function forwardBody(
  res: ServerResponse,
  result: Extract<AttemptResult, { type: 'forward' }>,
  state: RequestState,
  providerKey: string,
  usage: UsageReader | undefined,
): Promise<unknown> {
  const { upstream } = result;
  startResponse(res, result, state, providerKey);
  const length = upstream.headers['content-length'];
  if (typeof length === 'string') res.setHeader('content-length', length); // the bytes are the upstream's own
  const body: Readable = upstream.body;
  const tap = usage?.json();
  for (const chunk of result.head) {
    res.write(chunk);
    tap?.push(chunk);
  }
  return new Promise((resolve) => {
    let settled = false;
    const onDrain = (): void => {
      body.resume();
    };
    body.on('data', (chunk: Buffer) => {
      result.call.progress();
      if (!res.write(chunk)) {
        body.pause();
        res.once('drain', onDrain);
      }
      tap?.push(chunk);
    });
    body.once('end', () => {
      settled = true;
      result.call.clearDeadline();
      res.end();
      if (tap) state.usage = tap.result();
      resolve(undefined);
    });
    // Stays attached: a body destroyed later may still emit an error nobody else would hear.
    const cut = (error: unknown): void => {
      if (settled) return;
      settled = true;
      result.call.clearDeadline();
      res.destroy();
      resolve(result.call.causeOf(error));
    };
    body.on('error', cut);
    body.once('close', () => cut(new Error('upstream body closed before its end')));
    body.resume(); // paused when the head was read
  });
}
