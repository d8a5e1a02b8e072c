/**
 * The plumbing of one proxied request, whatever its route: it counts the request in the router's
 * shutdown, watches the client, sends attempts (their upstream call aborted when the client leaves
 * or the router stops), and delivers an attempt's outcome: a stream through the SSE pipe, a large
 * body as it arrives, an answer read whole. For an API that keeps state per response, it remembers
 * which provider created each response it passes on.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Api, StreamTapHooks } from '../apis/api.js';
import type { ErrorKind } from '../errors/classify.js';
import { classifyError } from '../errors/classify.js';
import { HttpError, openAiError } from '../errors/openai-error.js';
import { ClientConnection } from '../http/client-connection.js';
import type { RequestState } from '../http/request-state.js';
import { requestState } from '../http/request-state.js';
import type { RequestObservation } from '../observe/observer.js';
import type { ResolvedProvider } from '../registry/types.js';
import type { UsageReader } from '../usage/readers.js';
import type { AttemptInput, AttemptResult } from './attempt.js';
import { runAttempt } from './attempt.js';
import type { ProxyConfig } from './config.js';
import { forwardBody, sendAnswer, sendError, sendNetworkError } from './deliver.js';
import type { StreamVerdict } from './stream.js';
import { deliverStream } from './stream.js';
import type { UpstreamCall } from './upstream-call.js';

/** The answer to a request the router cannot finish or take because it is shutting down. */
export const PROXY_CLOSED = new HttpError(503, openAiError('The proxy is shutting down', 'server_error', 'proxy_closed'));

/** What one attempt sends, and which statuses could still move the request elsewhere. */
export type AttemptTarget = Pick<AttemptInput, 'method' | 'url' | 'headers' | 'body' | 'stream' | 'mayFailOver'>;

/** The most of a forwarded answer's first chunks searched for a response id. */
const ID_WINDOW_BYTES = 16 * 1024;
const NO_HOOKS: StreamTapHooks = Object.freeze({ responseId() {} });

const is2xx = (status: number): boolean => status >= 200 && status < 300;

export class Exchange {
  readonly state: RequestState;
  readonly client: ClientConnection;
  /** What metrics, tracing and hooks are told of this request (a shared no-op when nothing listens). */
  readonly watch: RequestObservation;
  /** True once the router told the requests in flight to stop. */
  stopped = false;
  readonly #usage: UsageReader | undefined;
  /** Remembers the provider of the responses this request creates (not for a follow-up). */
  readonly #remembers: boolean;
  #call: UpstreamCall | undefined;
  #streaming = false;

  constructor(
    private readonly config: ProxyConfig,
    private readonly api: Api,
    req: IncomingMessage,
    private readonly res: ServerResponse,
    /**
     * A request about a stored response (a retrieve, a replayed stream): it creates nothing and
     * uses no tokens, so its answer is neither remembered nor read for usage (which would count
     * the stored response's tokens a second time).
     */
    followUp = false,
  ) {
    this.state = requestState(req);
    this.client = this.state.connection ?? new ClientConnection(res);
    this.watch = config.observer.request(req, api.name, this.state, this.client);
    this.#usage = config.readUsage && !followUp ? api.usage : undefined;
    this.#remembers = api.affinity !== undefined && !followUp;
  }

  /**
   * Runs the request's work within the router's shutdown count. An `HttpError` it throws is
   * answered in the API's envelope; once the client has gone nothing is written.
   */
  async run(work: () => Promise<void>): Promise<void> {
    if (this.client.gone) {
      // It left while earlier middleware waited: nothing is read, sent upstream or written.
      this.#clientLeft();
      return;
    }
    const { shutdown } = this.config;
    shutdown.enter();
    this.client.hold(); // the request's end (its log entry, metrics) waits until its outcome is recorded
    const stopWatching = this.client.onGone(() => this.#call?.clientGone());
    const stopListening = shutdown.onStop(() => {
      this.stopped = true;
      if (!this.#streaming) this.#call?.abort(PROXY_CLOSED); // a stream is ended by its pipe, with an error event
    });
    try {
      await work();
    } catch (error) {
      if (this.client.gone) this.#clientLeft();
      else if (error instanceof HttpError) sendError(this.res, this.api, error);
      else throw error;
    } finally {
      stopWatching();
      stopListening();
      shutdown.leave();
      this.client.release();
    }
  }

  /**
   * Sends one attempt. Resolves undefined when nobody waits for its outcome any more (the client
   * left: nothing is to be written); throws `PROXY_CLOSED` when the router stopped meanwhile.
   */
  async attempt(target: AttemptTarget): Promise<AttemptResult | undefined> {
    const { config, state } = this;
    // One literal with every field (no spread of `target`): a spread here cost ~7 µs per request.
    const result = await runAttempt({
      method: target.method,
      url: target.url,
      headers: target.headers,
      body: target.body,
      stream: target.stream,
      mayFailOver: target.mayFailOver,
      transport: config.transport,
      requestMs: config.timeouts.requestMs,
      ttftMs: config.timeouts.ttftMs,
      streamIdleMs: config.timeouts.streamIdleMs,
      maxResponseBytes: config.maxResponseBytes,
      onCall: (call) => {
        this.#call = call;
        state.upstreamSentAt = call.sentAt;
      },
      onHeaders: (upstream) => {
        state.upstreamHeadersAt = performance.now();
        this.watch.responded(upstream);
      },
    });
    if (this.client.gone || (result.type === 'error' && result.classified.kind === 'client_disconnect')) return undefined;
    if (this.stopped) throw PROXY_CLOSED;
    return result;
  }

  /** No attempt is left to deliver: the router stopped (503), or the client left (499, nothing written). */
  endWithoutAnswer(): void {
    if (this.stopped && !this.client.gone) throw PROXY_CLOSED;
    this.#clientLeft();
  }

  /** Pipes a 2xx event stream to the client; resolves with what its end says about the provider. */
  stream(result: Extract<AttemptResult, { type: 'stream' }>, provider: ResolvedProvider): Promise<StreamVerdict> {
    this.#streaming = true;
    const { config } = this;
    const hooks = this.#remembers ? { responseId: (id: string) => config.homes.remember(id, provider.key) } : NO_HOOKS;
    const context = { api: this.api, usage: this.#usage, client: this.client, shutdown: config.shutdown, timeouts: config.timeouts, heartbeatMs: config.heartbeatMs, hooks };
    return this.watch.stream(deliverStream(this.res, result, this.state, provider.key, context), result.upstream.status);
  }

  /**
   * Forwards a large 2xx body as it arrives. Resolves with the kind of error when the upstream
   * (or its deadline) cut it short: the client then has a truncated body with the upstream's
   * status, which the log entry keeps, at warn, with the error kind.
   */
  async forward(result: Extract<AttemptResult, { type: 'forward' }>, provider: ResolvedProvider): Promise<ErrorKind | undefined> {
    if (this.#remembers) this.#remember(result.upstream.status, firstBytes(result.head), provider);
    const cut = await forwardBody(this.res, result, this.state, provider.key, this.#usage);
    const kind = cut === undefined || this.client.gone ? undefined : classifyError(cut).kind;
    if (kind !== undefined && kind !== 'client_disconnect') {
      this.state.errorKind = kind;
      this.state.status = result.upstream.status;
      this.state.logLevel = 'warn';
      this.watch.forwarded(result.upstream.status, kind);
      return kind;
    }
    this.watch.forwarded(result.upstream.status, undefined);
    return undefined;
  }

  /** Sends an answer read whole, or the classified network error in the API's envelope. */
  answer(result: Extract<AttemptResult, { type: 'answer' | 'error' }>, provider: ResolvedProvider): void {
    if (result.type === 'error') {
      sendNetworkError(this.res, this.api, result.classified, this.state);
      return;
    }
    sendAnswer(this.res, result, this.state, provider.key, this.#usage);
    if (this.#remembers) this.#remember(result.upstream.status, result.bytes, provider);
  }

  #remember(status: number, body: Buffer, provider: ResolvedProvider): void {
    if (!is2xx(status)) return;
    const id = this.api.affinity!.idOfAnswer(body);
    if (id !== undefined) this.config.homes.remember(id, provider.key);
  }

  #clientLeft(): void {
    this.state.status = 499;
    this.state.errorKind = 'client_disconnect';
  }
}

/** The start of a body read in chunks, up to ID_WINDOW_BYTES. */
function firstBytes(chunks: readonly Buffer[]): Buffer {
  let length = 0;
  for (const chunk of chunks) length += chunk.length;
  return Buffer.concat(chunks, Math.min(length, ID_WINDOW_BYTES));
}
