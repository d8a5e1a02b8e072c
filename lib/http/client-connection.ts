/**
 * One 'close' listener per response, for everything that must know how it ended: whatever must
 * react to the client leaving (the upstream call, a retry wait, the SSE pipe) subscribes with
 * `onGone`, the end of the request (its log entry, metrics) with `onEnd`. Node emits 'close' on a
 * response after it finished too, so 'close' alone tells both.
 */
import type { ServerResponse } from 'node:http';

/** Structurally the SSE pipe's `ClientWatch`, so the pipe can share it. */
export class ClientConnection {
  gone = false;
  #listeners: (() => void)[] = [];
  #end: (() => void) | undefined;
  #closed = false;

  constructor(res: ServerResponse) {
    if (res.destroyed && !res.writableFinished) {
      this.gone = true;
      this.#closed = true;
      return;
    }
    res.once('close', () => {
      this.#closed = true;
      if (!res.writableFinished) {
        // The connection closed before the answer was complete: the client left.
        this.gone = true;
        const listeners = this.#listeners;
        this.#listeners = [];
        for (const listener of listeners) listener();
      }
      this.#end?.();
    });
  }

  /** Calls `listener` once the response is over, complete or not (one listener: the request's end watcher). */
  onEnd(listener: () => void): void {
    if (this.#closed) listener();
    else this.#end = listener;
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
