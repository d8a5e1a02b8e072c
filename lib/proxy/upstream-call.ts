/**
 * One request to one upstream, with its abort source and its deadlines. Whatever ends it
 * early (a timeout, the client leaving) aborts with a marked reason, so the cause of a failure
 * is the abort reason whatever the transport threw.
 */
import { ClientClosedRequestError, UpstreamTimeoutError } from '../errors/errors.js';
import { AbortSource, requestWithSource } from '../transport/abort-source.js';
import type { UpstreamRequest, UpstreamResponse, UpstreamTransport } from '../transport/types.js';

export class UpstreamCall {
  readonly #abort = new AbortSource();
  readonly sentAt: number;
  #timer: NodeJS.Timeout | undefined;
  /** The timer is an idle deadline, which `progress()` restarts. */
  #idle = false;

  constructor(
    private readonly transport: UpstreamTransport,
    private readonly request: Omit<UpstreamRequest, 'signal' | 'abort'>,
  ) {
    this.sentAt = performance.now();
  }

  /** Starts (or restarts) the deadline `ms` after the request was sent. */
  deadline(ms: number, what: string): void {
    this.#arm(ms, what, Math.max(0, this.sentAt + ms - performance.now()), false);
  }

  /** Replaces the deadline with an idle one: `ms` without `progress()`, then the abort. */
  idleDeadline(ms: number, what: string): void {
    this.#arm(ms, what, ms, true);
  }

  #arm(ms: number, what: string, delay: number, idle: boolean): void {
    clearTimeout(this.#timer);
    this.#idle = idle;
    this.#timer = setTimeout(() => this.abort(new UpstreamTimeoutError(`The upstream provider did not ${what} within ${ms} ms`, ms)), delay);
  }

  /** Bytes moved: an idle deadline starts over (a plain deadline is left as it is). */
  progress(): void {
    if (this.#idle) this.#timer?.refresh();
  }

  clearDeadline(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#idle = false;
  }

  abort(reason: Error): void {
    this.clearDeadline();
    this.#abort.abort(reason);
  }

  clientGone(): void {
    this.abort(new ClientClosedRequestError());
  }

  send(): Promise<UpstreamResponse> {
    return this.transport(requestWithSource(this.request, this.#abort));
  }

  /** The real cause of a failure: our own abort reason when we aborted, else what was thrown. */
  causeOf(error: unknown): unknown {
    return this.#abort.aborted ? this.#abort.reason : error;
  }
}
