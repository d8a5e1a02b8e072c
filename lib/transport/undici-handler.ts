/**
 * One request on an undici dispatcher, answered as status, headers and a Node Readable body.
 * `dispatcher.request()` does the same with an AsyncResource, a richer body class and its own
 * abort plumbing; this handler keeps only what the proxy uses, which saves CPU on every call.
 */
import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { errors } from 'undici';
import { decodeResponse } from './decode.js';
import type { ChunkSink, DirectlyReadable, DirectRead, WhollyTakeable } from './direct-read.js';
import { readDirectly, takeWhole } from './direct-read.js';
import type { UpstreamResponse } from './types.js';

type Controller = Dispatcher.DispatchController;
type Headers = UpstreamResponse['headers'];

/** An emitter signal (undici's own form, as `AbortSource` is) or a WHATWG AbortSignal. */
export type SignalLike = { aborted: boolean; reason?: unknown } & (
  | { once(event: 'abort', listener: () => void): unknown; removeListener(event: 'abort', listener: () => void): unknown }
  | AbortSignal
);

const HIGH_WATER_MARK = 64 * 1024;

/**
 * The response body: a Readable whose reading resumes the upstream socket and whose destruction
 * aborts the request, or, for a direct reader (the SSE pipe), a plain feed of chunks: a Readable
 * costs a push, a 'data' event and a next-tick read() per chunk, which the pipe does not need.
 */
class UpstreamBody extends Readable implements DirectlyReadable, WhollyTakeable {
  /** Chunks that came before anyone read, kept until a reader of either kind takes them. */
  #held: Buffer[] | undefined = [];
  #heldBytes = 0;
  #sink: ChunkSink | undefined;
  /** The upstream sent the whole body. */
  #complete = false;
  /** The body failed before anyone read it: kept for its first reader, as its chunks are. */
  #failure: { error: unknown } | undefined;
  /** Complete or failed: nothing is left to abort. */
  #settled = false;

  constructor(
    private readonly controller: Controller,
    /** Called once the body is of no more use: closed, or for a direct reader settled. */
    private readonly release: () => void,
  ) {
    super({ highWaterMark: HIGH_WATER_MARK });
    this.once('close', release);
  }

  /** One chunk from the upstream; false when the upstream should pause. */
  deliver(chunk: Buffer): boolean {
    if (this.#sink) return this.#sink.data(chunk);
    if (this.#held) {
      this.#held.push(chunk);
      this.#heldBytes += chunk.length;
      return this.#heldBytes < HIGH_WATER_MARK;
    }
    return this.push(chunk);
  }

  complete(): void {
    this.#complete = true;
    this.#settled = true;
    if (this.#sink) {
      this.release();
      this.#sink.end();
    } else if (!this.#held) {
      this.push(null);
    }
  }

  fail(error: unknown): void {
    if (this.#sink) {
      if (this.#settled) return;
      this.#settled = true;
      this.release();
      const sink = this.#sink;
      process.nextTick(() => sink.error(error)); // a later tick, as a Readable's 'error' would come
    } else if (this.#held && this.listenerCount('error') === 0) {
      // Nobody listens yet: an 'error' now would reach no listener (and crash the process), and a
      // reader attaching later would wait for events that already passed.
      if (this.#settled) return;
      this.#settled = true;
      this.#failure = { error };
    } else if (!this.destroyed) {
      this.#settled = true;
      this.destroy(error as Error);
    }
  }

  /** Aborts the request and fails the body with `reason`. */
  abort(reason: unknown): void {
    if (this.#sink || (this.#held && this.listenerCount('error') === 0)) {
      if (!this.#settled) this.controller.abort(reason as Error);
      this.fail(reason);
    } else {
      this.destroy(reason as Error);
    }
  }

  [takeWhole](maxBytes: number): Buffer[] | undefined {
    const held = this.#held;
    if (!this.#complete || !held || this.#heldBytes > maxBytes || this.destroyed) return undefined;
    // Someone else waits for its events (a transport wrapped to watch its bodies): read as a Readable, they come.
    if (this.listenerCount('end') > 0 || this.listenerCount('data') > 0 || this.listenerCount('readable') > 0) return undefined;
    this.#held = undefined;
    this.release(); // as a direct reader's end does: the request is over and nothing is left to abort
    return held;
  }

  [readDirectly](sink: ChunkSink): DirectRead | undefined {
    const held = this.#held;
    if (!held || this.destroyed) return undefined;
    this.#held = undefined;
    this.#sink = sink;
    let ok = true;
    for (const chunk of held) ok = sink.data(chunk) && ok;
    if (this.#failure) {
      this.#settled = false; // so fail() reports it to the sink
      this.fail(this.#failure.error);
    } else if (this.#complete) {
      this.complete();
    } else if (ok) {
      this.controller.resume(); // in case the held chunks had filled the buffer
    } else {
      this.controller.pause();
    }
    // A reader that stops early destroys the body as it would a Readable's, which aborts the request.
    return { resume: () => this.controller.resume() };
  }

  override _read(): void {
    if (this.#complete && !this.#held) {
      this.push(null); // taken whole: nothing is left to read, and the request is over
      return;
    }
    const held = this.#held;
    if (held) {
      this.#held = undefined;
      for (const chunk of held) this.push(chunk);
      if (this.#failure) {
        this.destroy(this.#failure.error as Error); // the reader is listening now
        return;
      }
      if (this.#complete) {
        this.push(null);
        return;
      }
    }
    this.controller.resume();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.#settled) {
      this.controller.abort(error ?? new errors.RequestAbortedError());
    }
    callback(error);
  }
}

function abortReason(signal: SignalLike): unknown {
  return signal.reason ?? new errors.RequestAbortedError();
}

function listen(signal: SignalLike, listener: () => void): () => void {
  if ('addEventListener' in signal) {
    signal.addEventListener('abort', listener, { once: true });
    return () => signal.removeEventListener('abort', listener);
  }
  signal.once('abort', listener);
  return () => signal.removeListener('abort', listener);
}

class ResponseHandler implements Dispatcher.DispatchHandler {
  #controller: Controller | undefined;
  #body: UpstreamBody | undefined;
  #stopListening: (() => void) | undefined;

  constructor(
    private readonly resolve: (response: UpstreamResponse) => void,
    private readonly reject: (error: unknown) => void,
    private readonly signal: SignalLike | undefined,
  ) {
    if (signal && !signal.aborted) {
      this.#stopListening = listen(signal, () => this.#abort(abortReason(signal)));
    }
  }

  #abort(reason: unknown): void {
    if (this.#body) {
      this.#body.abort(reason);
    } else if (this.#controller) {
      this.#controller.abort(reason as Error);
    } else {
      // Still queued (every connection busy, or connecting): undici starts the request only when
      // a socket takes it, and then onRequestStart aborts it. The caller hears now, so a deadline
      // or a client that left is not held up by the queue.
      this.#done();
      this.reject(reason);
    }
  }

  #done(): void {
    this.#stopListening?.();
    this.#stopListening = undefined;
  }

  onRequestStart(controller: Controller): void {
    this.#controller = controller;
    if (this.signal?.aborted) {
      controller.abort(abortReason(this.signal) as Error);
    }
  }

  onResponseStart(controller: Controller, statusCode: number, headers: Headers): void {
    if (statusCode < 200) return; // 1xx: the real answer follows
    const body = new UpstreamBody(controller, () => this.#done());
    this.#body = body;
    // Decoded here, not in a `then` after: one promise turn less between the upstream's answer and the client's.
    let response: UpstreamResponse;
    try {
      response = decodeResponse({ status: statusCode, headers, body });
    } catch (error) {
      body.abort(error);
      this.reject(error);
      return;
    }
    this.resolve(response);
  }

  onResponseData(controller: Controller, chunk: Buffer): void {
    if (!this.#body!.deliver(chunk)) controller.pause();
  }

  onResponseEnd(): void {
    this.#body!.complete();
  }

  onResponseError(_controller: Controller, error: Error): void {
    this.#done();
    if (!this.#body) {
      this.reject(error); // before the headers: the promise has not resolved
    } else {
      this.#body.fail(error);
    }
  }
}

/**
 * `pending` settled as it settles, or rejected as soon as `signal` aborts: undici's own
 * `request()` defers an abort until a socket takes the request. A response that comes after
 * the abort has its body destroyed.
 */
export function settleOnAbort(pending: Promise<UpstreamResponse>, signal: SignalLike | undefined): Promise<UpstreamResponse> {
  if (signal === undefined) return pending;
  return new Promise((resolve, reject) => {
    let aborted = signal.aborted;
    const stop = aborted ? () => {} : listen(signal, () => {
      aborted = true;
      reject(abortReason(signal));
    });
    if (aborted) reject(abortReason(signal));
    pending.then(
      (response) => {
        stop();
        if (aborted) response.body.destroy();
        else resolve(response);
      },
      (error: unknown) => {
        stop();
        reject(error);
      },
    );
  });
}

/** Sends `options` on `dispatcher`; resolves at the response headers, the body decoded (see `decodeResponse`). */
export function dispatchRequest(dispatcher: Dispatcher, options: Dispatcher.DispatchOptions, signal: SignalLike | undefined): Promise<UpstreamResponse> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortReason(signal));
      return;
    }
    dispatcher.dispatch(options, new ResponseHandler(resolve, reject, signal));
  });
}
