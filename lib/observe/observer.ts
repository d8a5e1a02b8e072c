/**
 * What the proxy handler tells the observers (metrics, tracing, hooks) about one request, in one
 * object per request: the handler makes one call at each step and knows nothing of what listens.
 * When nothing listens, every request shares a no-op, so the handler's calls cost nothing.
 */
import type { IncomingMessage } from 'node:http';
import type { Request } from 'express';
import type { ErrorKind } from '../errors/classify.js';
import type { RequestObservationEnd, RequestState } from '../http/request-state.js';
import type { LogSink } from '../logging/logger.js';
import type { AttemptTrace, IncomingTraceHeaders, ProxyTracing, RequestTrace } from '../metrics/trace-types.js';
import type { ProxyMetrics } from '../metrics/types.js';
import type { ResolvedProvider } from '../registry/types.js';
import type { ClientWatch, StopWatch } from '../sse/pipe.js';
import type { UpstreamResponse } from '../transport/types.js';
import type { Usage } from '../usage/types.js';
import type { LlmProxyHooks } from './hooks.js';
import { callHook } from './hooks.js';
import { runRequestHook } from './request-hook.js';

/** How an attempt that was not a stream ended: an error before an answer, or an answer's status. */
export type AttemptEnd = { type: 'error'; classified: { kind: ErrorKind } } | { type: 'answer'; upstream: { status: number } };

/** How a stream's end counts for the breaker (see proxy/stream.ts). */
type StreamVerdict = 'success' | 'failure' | 'release';

export interface RequestObservation {
  /**
   * The body has named `model`; `served` when some provider maps it. Runs `hooks.onRequest`:
   * undefined when done, a promise when the hook is async. Throws (or rejects with) the
   * `HttpError` to answer instead.
   */
  admit(body: Readonly<Record<string, unknown>>, model: string, stream: boolean, served: boolean): Promise<void> | undefined;
  /** An attempt at `provider` is about to be sent with `headers` (a fresh object): returns them with the observers' own added. */
  attempt(provider: ResolvedProvider, attempt: number, headers: Record<string, string>): Record<string, string>;
  /** The attempt's response headers arrived. */
  responded(upstream: UpstreamResponse): void;
  /** The attempt ended in an error, or in an answer read whole. */
  answered(result: AttemptEnd): void;
  /** A forwarded answer (`status`) ended; `cut` is the error kind when the upstream cut it short. */
  forwarded(status: number, cut: ErrorKind | undefined): void;
  /** Passes the delivery of a stream through, counting it as active while it runs. */
  stream(delivery: Promise<StreamVerdict>, status: number): Promise<StreamVerdict>;
  /** The request moves on from the last attempt's provider to another. */
  failover(): void;
}

export interface ObserverOptions {
  logger: LogSink;
  metrics: ProxyMetrics | undefined;
  tracing: ProxyTracing | undefined;
  hooks: LlmProxyHooks;
  shutdown: StopWatch;
  /** Thrown when the router stops while `onRequest` runs. */
  stopped: Error;
}

const NO_OBSERVATION: RequestObservation = Object.freeze({
  admit: () => undefined,
  attempt: (_provider: ResolvedProvider, _attempt: number, headers: Record<string, string>) => headers,
  responded: () => {},
  answered: () => {},
  forwarded: () => {},
  stream: (delivery: Promise<StreamVerdict>) => delivery,
  failover: () => {},
});

/** `llm_proxy_upstream_errors_total`'s kind for an attempt's error. */
const errorKind = (kind: ErrorKind): string => (kind === 'response_too_large' ? 'request' : kind);
/** ... and for a stream the provider failed (an upstream clock, or the stream breaking or reporting an error). */
const streamKind = (reason: string | undefined): string => (reason === 'ttft_timeout' || reason === 'stream_idle_timeout' ? 'timeout' : 'stream_error');

export class ProxyObserver {
  readonly #options: ObserverOptions;
  readonly #active: boolean;

  constructor(options: ObserverOptions) {
    this.#options = options;
    const { metrics, tracing, hooks } = options;
    this.#active = metrics !== undefined || tracing !== undefined || hooks.onRequest !== undefined || hooks.onResponse !== undefined;
  }

  /** The request's observation; kept on `state.observation` for the end of the request. */
  request(req: IncomingMessage, api: string, state: RequestState, client: ClientWatch): RequestObservation {
    if (!this.#active) return NO_OBSERVATION;
    const observation = new Observation(this.#options, req as Request, api, state, client);
    state.observation = observation;
    return observation;
  }
}

class Observation implements RequestObservation, RequestObservationEnd {
  modelServed = false;
  readonly #trace: RequestTrace | undefined;
  #attemptTrace: AttemptTrace | undefined;
  #headers: Record<string, string> | undefined;
  #provider = 'none';
  #attempt = 0;

  constructor(
    private readonly options: ObserverOptions,
    private readonly req: Request,
    private readonly api: string,
    private readonly state: RequestState,
    private readonly client: ClientWatch,
  ) {
    this.#trace = this.#traced(() => options.tracing?.startRequest({ api, startTime: performance.timeOrigin + state.startedAt }, req.headers as IncomingTraceHeaders));
  }

  admit(body: Readonly<Record<string, unknown>>, model: string, stream: boolean, served: boolean): Promise<void> | undefined {
    this.modelServed = served;
    const trace = this.#trace;
    if (trace) this.#traced(() => trace.setModel(model, stream));
    const hook = this.options.hooks.onRequest;
    if (!hook) return undefined;
    const { req, api, state, options } = this;
    const input = { req, api, model, stream, body, requestId: state.requestId, client: state.client };
    const outcome = runRequestHook(hook, input, options.logger, { client: this.client, shutdown: options.shutdown, stopped: options.stopped });
    if (!(outcome instanceof Promise)) {
      this.#headers = outcome;
      return undefined;
    }
    return outcome.then((headers) => {
      this.#headers = headers;
    });
  }

  attempt(provider: ResolvedProvider, attempt: number, headers: Record<string, string>): Record<string, string> {
    this.#provider = provider.key;
    this.#attempt = attempt;
    if (this.#headers) Object.assign(headers, this.#headers);
    const trace = this.#trace;
    if (trace) {
      const child = this.#traced(() => trace.attempt({ provider: provider.key }));
      this.#attemptTrace = child;
      if (child?.traceparent !== undefined) headers.traceparent = child.traceparent;
      if (child?.tracestate !== undefined) headers.tracestate = child.tracestate;
    }
    return headers;
  }

  responded(upstream: UpstreamResponse): void {
    const hook = this.options.hooks.onResponse;
    if (!hook) return;
    const { req, api, state } = this;
    const event = { req, api, model: state.model ?? '', requestId: state.requestId, provider: this.#provider, status: upstream.status, headers: upstream.headers, attempt: this.#attempt };
    callHook(this.options.logger, 'hooks.onResponse', hook, event, state.requestId);
  }

  answered(result: AttemptEnd): void {
    if (result.type === 'error') {
      const { kind } = result.classified;
      if (kind !== 'client_disconnect') this.#upstreamError(errorKind(kind));
      this.#endAttempt(0, kind);
      return;
    }
    const { status } = result.upstream;
    if (status >= 400) this.#upstreamError(`status_${status}`);
    this.#endAttempt(status, undefined);
  }

  forwarded(status: number, cut: ErrorKind | undefined): void {
    if (cut !== undefined) this.#upstreamError(errorKind(cut));
    this.#endAttempt(status, cut);
  }

  async stream(delivery: Promise<StreamVerdict>, status: number): Promise<StreamVerdict> {
    const { metrics } = this.options;
    metrics?.streamStarted(this.api);
    let verdict: StreamVerdict;
    try {
      verdict = await delivery;
    } finally {
      metrics?.streamEnded(this.api);
    }
    const reason = this.state.streamError;
    if (verdict === 'failure') this.#upstreamError(streamKind(reason));
    this.#endAttempt(status, reason ?? (this.state.status === 499 ? 'client_disconnect' : undefined));
    return verdict;
  }

  failover(): void {
    this.options.metrics?.failover({ fromProvider: this.#provider, model: this.state.model ?? 'unknown' });
  }

  ended(status: number, error: string | undefined, usage: Usage | undefined): void {
    this.#endAttempt(0, 'abandoned'); // an attempt the request never saw the end of (it stopped waiting)
    const trace = this.#trace;
    if (trace) this.#traced(() => trace.end(status, error, usage));
  }

  #upstreamError(kind: string): void {
    this.options.metrics?.upstreamError({ provider: this.#provider, model: this.state.model ?? 'unknown', kind });
  }

  #endAttempt(status: number, error: string | undefined): void {
    const child = this.#attemptTrace;
    if (!child) return;
    this.#attemptTrace = undefined;
    this.#traced(() => child.end(status, error));
  }

  /** A tracer that throws must not break the request: the span is then lost, nothing else. */
  #traced<T>(call: () => T): T | undefined {
    try {
      return call();
    } catch {
      return undefined;
    }
  }
}
