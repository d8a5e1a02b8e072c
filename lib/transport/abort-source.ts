/**
 * A cheap abort source for the proxy's hot path. An AbortController (an EventTarget) costs about
 * 8 µs per request on Node 20; the undici transport listens on any emitter with `aborted`,
 * `reason` and an `abort` event (undici's own form of a signal), which costs a fiftieth of that.
 * A transport that needs a real AbortSignal (fetch) reads `request.signal`, and only then is one
 * made and linked.
 */
import { EventEmitter } from 'node:events';
import type { UpstreamRequest } from './types.js';

/** The emitter form of a signal, as undici's APIs take it. */
export class AbortSource extends EventEmitter {
  aborted = false;
  reason: unknown = undefined;
  #controller: AbortController | undefined;

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.emit('abort');
  }

  /** A WHATWG AbortSignal that follows this source, made on first use. */
  get signal(): AbortSignal {
    if (!this.#controller) {
      const controller = new AbortController();
      this.#controller = controller;
      if (this.aborted) controller.abort(this.reason);
      else this.once('abort', () => controller.abort(this.reason));
    }
    return this.#controller.signal;
  }
}

const SOURCE = Symbol('express-llm-proxy.abortSource');

type WithSource = UpstreamRequest & { [SOURCE]?: AbortSource };

/** The request to hand a transport: `signal` is made only if the transport reads it. */
export function requestWithSource(request: Omit<UpstreamRequest, 'signal'>, source: AbortSource): UpstreamRequest {
  return {
    url: request.url,
    method: request.method,
    headers: request.headers,
    body: request.body,
    [SOURCE]: source,
    get signal() {
      return source.signal;
    },
  } as WithSource;
}

/** What the undici transport listens on: the cheap source when the proxy made the request, else its AbortSignal. */
export function undiciSignal(request: UpstreamRequest): AbortSource | AbortSignal | undefined {
  return (request as WithSource)[SOURCE] ?? request.signal;
}
