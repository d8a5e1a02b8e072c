/**
 * The router's shutdown: requests in flight are counted, so `close()` can let them finish within
 * a grace period; what is still running then is told to stop (streams end with an error event,
 * upstream calls are aborted). Requests that arrive after `close()` are refused.
 */
import type { StopWatch } from '../sse/pipe.js';
import { ListenerList } from '../util/listener-list.js';

export class Shutdown implements StopWatch {
  /** True from the moment `close()` was called. */
  closing = false;
  #inFlight = 0;
  #stopped = false;
  #stopListeners = new ListenerList();
  #idle: (() => void) | undefined;
  #closed: Promise<void> | undefined;

  /** Counts a request in; call `leave()` exactly once when it is over. */
  enter(): void {
    this.#inFlight++;
  }

  leave(): void {
    this.#inFlight--;
    if (this.#inFlight === 0) this.#idle?.();
  }

  onStop(listener: () => void): () => void {
    if (this.#stopped) {
      listener();
      return () => {};
    }
    return this.#stopListeners.add(listener);
  }

  /**
   * Stops taking requests, waits up to `graceMs` for those in flight, stops the rest, and then
   * waits for them to wind down. Idempotent: every call gets the first call's promise.
   */
  close(graceMs: number): Promise<void> {
    this.#closed ??= this.#close(graceMs);
    return this.#closed;
  }

  async #close(graceMs: number): Promise<void> {
    this.closing = true;
    if (this.#inFlight > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, graceMs);
        this.#idle = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    this.#stopped = true;
    for (const listener of this.#stopListeners.takeAll()) listener();
    if (this.#inFlight > 0) await new Promise<void>((resolve) => (this.#idle = resolve));
  }
}
