/**
 * The abort of one upstream request, cheap on the hot path: undici's emitter form of a signal
 * (`aborted`, `reason`, `once`/`removeListener` of 'abort') with a real AbortSignal made only
 * when a transport asks for one (fetch). An AbortController (an EventTarget) costs about 8 µs per
 * request on Node 20; an EventEmitter still sets up its listener table on construction; this
 * keeps the one or two listeners a request ever has in an array.
 */
import type { UpstreamAbort, UpstreamRequest } from './types.js';

export class AbortSource implements UpstreamAbort {
  aborted = false;
  reason: unknown = undefined;
  #listeners: (() => void)[] | undefined;
  #controller: AbortController | undefined;

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const listeners = this.#listeners;
    this.#listeners = undefined;
    if (listeners) for (const listener of listeners) listener();
  }

  once(_event: 'abort', listener: () => void): this {
    (this.#listeners ??= []).push(listener);
    return this;
  }

  /** undici checks for `on` to tell an emitter; it then subscribes with `once`. */
  on(event: 'abort', listener: () => void): this {
    return this.once(event, listener);
  }

  removeListener(_event: 'abort', listener: () => void): this {
    const listeners = this.#listeners;
    const at = listeners ? listeners.indexOf(listener) : -1;
    if (at !== -1) listeners!.splice(at, 1);
    return this;
  }

  /** Listeners still waiting for an abort (a transport must not leave any behind). */
  listenerCount(_event: 'abort'): number {
    return this.#listeners?.length ?? 0;
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

/** The request handed to a transport: its `signal` getter lives on the prototype, made only if read. */
class SourcedRequest implements UpstreamRequest {
  readonly url: string;
  readonly method: UpstreamRequest['method'];
  readonly headers: Record<string, string>;
  readonly body: Buffer | undefined;
  readonly abort: AbortSource;

  constructor(request: Omit<UpstreamRequest, 'signal' | 'abort'>, source: AbortSource) {
    this.url = request.url;
    this.method = request.method;
    this.headers = request.headers;
    this.body = request.body;
    this.abort = source;
  }

  get signal(): AbortSignal {
    return this.abort.signal;
  }
}

/** The request to hand a transport: `abort` is the source itself, `signal` is made only if read. */
export function requestWithSource(request: Omit<UpstreamRequest, 'signal' | 'abort'>, source: AbortSource): UpstreamRequest {
  return new SourcedRequest(request, source);
}
