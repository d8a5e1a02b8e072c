/**
 * One 'close' listener per response, for everything that must know how it ended: whatever must
 * react to the client leaving (the upstream call, a retry wait, the SSE pipe) subscribes with
 * `onGone`, the end of the request (its log entry, metrics) with `onEnd`. Node emits 'close' on a
 * response after it finished too, so 'close' alone tells both.
 *
 * The response can be over before the proxy has recorded why (a stream's error, a client that
 * left mid-stream): the proxy's work `hold`s the end until it has, so the end listener runs once
 * both are over, with no timer or extra event-loop turn in between.
 */
import type { ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';

/** Structurally the SSE pipe's `ClientWatch`, so the pipe can share it. */
export class ClientConnection {
  gone = false;
  #listeners: (() => void)[] = [];
  #end: ((closedAt: number) => void) | undefined;
  /** When the response closed (`performance.now()`); undefined while it is open. */
  #closedAt: number | undefined;
  #holds = 0;

  constructor(res: ServerResponse) {
    if (res.destroyed && !res.writableFinished) {
      this.gone = true;
      this.#closedAt = performance.now();
      return;
    }
    res.once('close', () => {
      this.#closedAt = performance.now();
      if (!res.writableFinished) {
        // The connection closed before the answer was complete: the client left.
        this.gone = true;
        const listeners = this.#listeners;
        this.#listeners = [];
        for (const listener of listeners) listener();
      }
      if (this.#holds === 0) this.#ended();
    });
  }

  /**
   * Calls `listener` once the response is over, complete or not, and nothing holds the end (one
   * listener: the request's end watcher), with the time the response closed.
   */
  onEnd(listener: (closedAt: number) => void): void {
    this.#end = listener;
    if (this.#closedAt !== undefined && this.#holds === 0) this.#ended();
  }

  /** Delays the end listener until `release()`: the work that holds it still records how the request ended. */
  hold(): void {
    this.#holds += 1;
  }

  release(): void {
    this.#holds -= 1;
    if (this.#holds === 0 && this.#closedAt !== undefined) this.#ended();
  }

  onGone(listener: () => void): () => void {
    if (this.gone) {
      listener();
      return () => {};
    }
    this.#listeners.push(listener);
    return () => {
      const at = this.#listeners.indexOf(listener);
      if (at !== -1) this.#listeners.splice(at, 1);
    };
  }

  #ended(): void {
    const end = this.#end;
    this.#end = undefined;
    end?.(this.#closedAt!);
  }

  /** Waits `ms`, or less if the client leaves; resolves false when it left. */
  wait(ms: number): Promise<boolean> {
    if (this.gone) return Promise.resolve(false);
    return new Promise((resolve) => {
      let stop = (): void => {};
      const done = (): void => {
        clearTimeout(timer);
        stop();
        resolve(!this.gone);
      };
      const timer = setTimeout(done, ms);
      stop = this.onGone(done);
    });
  }
}
