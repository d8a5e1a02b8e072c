/**
 * Whether the client is still there: one 'close' listener per response, which everything that
 * must react to a client leaving (the upstream call, a retry wait, the SSE pipe) subscribes to.
 */
import type { ServerResponse } from 'node:http';

/** Structurally the SSE pipe's `ClientWatch`, so the pipe can share it. */
export class ClientConnection {
  gone = false;
  #listeners: (() => void)[] = [];

  constructor(res: ServerResponse) {
    if (res.destroyed && !res.writableFinished) {
      this.gone = true;
      return;
    }
    res.once('close', () => {
      if (res.writableFinished) return; // closed after a complete answer: nobody left early
      this.gone = true;
      const listeners = this.#listeners;
      this.#listeners = [];
      for (const listener of listeners) listener();
    });
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
