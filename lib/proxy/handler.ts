/**
 * A proxy route: read the body once, let the failover policy pick a provider, forward, act on the
 * policy's decision after each attempt, and pass the final answer back faithfully (read whole,
 * forwarded as it arrives, or an unbuffered SSE stream). Errors the proxy makes itself are in the
 * API's own envelope.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Api, ProxyRoute } from '../apis/api.js';
import { classifyError } from '../errors/classify.js';
import { HttpError, invalidRequest, openAiError } from '../errors/openai-error.js';
import { ClientConnection } from '../http/client-connection.js';
import { readJsonBody } from '../http/read-body.js';
import type { RequestState } from '../http/request-state.js';
import { requestState } from '../http/request-state.js';
import type { LogSink } from '../logging/request-logger.js';
import type { ProxyObserver } from '../observe/observer.js';
import type { ProviderIndex } from '../registry/provider-index.js';
import { endpointUrl } from '../registry/endpoint.js';
import { upstreamHeaders } from '../registry/upstream-headers.js';
import type { AttemptOutcome, FailoverPolicy, FailoverState } from '../resilience/failover.js';
import type { UpstreamTransport } from '../transport/types.js';
import type { AttemptResult } from './attempt.js';
import { runAttempt } from './attempt.js';
import { forwardBody, sendAnswer, sendError, sendNetworkError } from './deliver.js';
import { withStreamUsage } from './include-usage.js';
import { modelSpan, upstreamBody } from './rewrite-model.js';
import type { Shutdown } from './shutdown.js';
import type { ProxyTimeouts } from './timeouts.js';
import { deliverStream } from './stream.js';
import type { UpstreamCall } from './upstream-call.js';

/** What the handler needs, resolved once by the router. */
export interface ProxyConfig {
  /** The current provider index; rejects with an `HttpError` (503 or 500) when the registry fails. */
  index: () => Promise<ProviderIndex>;
  transport: UpstreamTransport;
  failover: FailoverPolicy;
  /** Statuses that may move a request elsewhere (`retry.onStatus`). */
  retryOnStatus: readonly number[];
  timeouts: ProxyTimeouts;
  heartbeatMs: number;
  bodyLimit: number;
  /** The most read of an answer held whole. */
  maxResponseBytes: number;
  logger: LogSink;
  shutdown: Shutdown;
  /** Read token usage from answers (the request log, metrics and hooks want it). */
  readUsage: boolean;
  /** Metrics, tracing and hooks, told of each step. */
  observer: ProxyObserver;
  /** `usage.includeInStreams`: ask for the usage of streams of APIs that report it only when asked. */
  includeUsageInStreams: boolean;
  /** Called when a host's body parser had read the request first (the router warns once). */
  onHostParsedBody?: () => void;
}

const MAX_MODEL_LENGTH = 256;
/** The answer to a request the router cannot finish or take because it is shutting down. */
export const PROXY_CLOSED = new HttpError(503, openAiError('The proxy is shutting down', 'server_error', 'proxy_closed'));

function validate(parsed: Record<string, unknown>): { model: string; stream: boolean } {
  const { model, stream } = parsed;
  if (model === undefined || model === null) {
    throw invalidRequest(400, 'You must provide a model parameter', 'missing_model', 'model');
  }
  if (typeof model !== 'string' || model.length === 0 || model.length > MAX_MODEL_LENGTH) {
    throw invalidRequest(400, `\`model\` must be a non-empty string of at most ${MAX_MODEL_LENGTH} characters`, 'invalid_model', 'model');
  }
  if (stream !== undefined && stream !== null && typeof stream !== 'boolean') {
    throw invalidRequest(400, '`stream` must be a boolean', 'invalid_type', 'stream');
  }
  return { model, stream: stream === true };
}

function clientLeft(state: RequestState): void {
  state.status = 499;
  state.errorKind = 'client_disconnect';
}

function outcomeOf(result: Exclude<AttemptResult, { type: 'stream' }>): AttemptOutcome {
  return result.type === 'error' ? { type: 'error', kind: result.classified.kind } : { type: 'answer', status: result.upstream.status, retryAfter: result.upstream.headers['retry-after'] };
}

function failedAttempt(state: RequestState, provider: string, result: Exclude<AttemptResult, { type: 'stream' | 'forward' }>): void {
  (state.failedAttempts ??= []).push(result.type === 'error' ? { provider, error_kind: result.classified.kind } : { provider, status: result.upstream.status });
}

export function createProxyHandler(config: ProxyConfig, api: Api, route: ProxyRoute) {
  const { timeouts, failover: policy, shutdown } = config;
  const mayFailOver = (status: number): boolean => status >= 300 || config.retryOnStatus.includes(status);
  const usage = config.readUsage ? api.usage : undefined;
  const askUsage = config.includeUsageInStreams && api.streamUsageOptIn === true;

  return async function proxyHandler(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const state = requestState(req);
    shutdown.enter();
    const client = new ClientConnection(res);
    const watch = config.observer.request(req, api.name, state, client);
    let call: UpstreamCall | undefined;
    let streaming = false;
    let stopped = false;
    const stopWatching = client.onGone(() => call?.clientGone());
    const stopListening = shutdown.onStop(() => {
      stopped = true;
      if (!streaming) call?.abort(PROXY_CLOSED); // a stream is ended by its pipe, with an error event
    });
    let failover: FailoverState | undefined;
    try {
      const body = await readJsonBody(req, config.bodyLimit);
      if (body.hostParsed) config.onHostParsedBody?.();
      const { model, stream } = validate(body.parsed);
      modelSpan(body); // a second top-level `model` is refused before anything is looked up
      state.model = model;
      const index = await config.index();
      const candidates = index.candidates(model);
      const admitted = watch.admit(body.parsed, model, stream, candidates.length > 0);
      if (admitted) await admitted;
      failover = policy.start(model, candidates);
      if (!failover) {
        throw new HttpError(404, openAiError(`The model \`${model}\` does not exist or is not served by any enabled provider`, 'invalid_request_error', 'model_not_found', 'model'));
      }
      const sent = askUsage && stream ? withStreamUsage(body) : body;
      for (let attempt = 1; !client.gone && !stopped; attempt++) {
        const claim = policy.attempting(failover); // a promise only to claim a shared half-open probe
        if (claim) {
          await claim;
          if (client.gone || stopped) break;
        }
        const provider = failover.provider;
        const upstreamModel = provider.models.get(model)!.upstream;
        state.provider = provider.key;
        state.upstreamModel = upstreamModel;
        state.attempts = attempt;
        const result = await runAttempt({
          transport: config.transport,
          method: route.method,
          url: endpointUrl(provider, route.upstreamPath),
          headers: watch.attempt(provider, attempt, upstreamHeaders(provider, state.requestId)),
          body: upstreamBody(sent, upstreamModel),
          stream,
          requestMs: timeouts.requestMs,
          ttftMs: timeouts.ttftMs,
          maxResponseBytes: config.maxResponseBytes,
          mayFailOver,
          onCall: (current) => {
            call = current;
            state.upstreamSentAt = current.sentAt;
          },
          onHeaders: (upstream) => {
            state.upstreamHeadersAt = performance.now();
            watch.responded(upstream);
          },
        });
        if (client.gone || (result.type === 'error' && result.classified.kind === 'client_disconnect')) break;
        if (stopped) throw PROXY_CLOSED;
        if (result.type === 'stream') {
          streaming = true;
          const delivery = deliverStream(res, result, state, provider.key, { api, usage, client, shutdown, timeouts, heartbeatMs: config.heartbeatMs });
          const outcome = await watch.stream(delivery, result.upstream.status);
          if (outcome === 'success' || outcome === 'failure') policy.settle(failover, outcome);
          return;
        }
        const decision = policy.decide(outcomeOf(result), attempt, failover);
        if (result.type === 'forward') {
          const cut = await forwardBody(res, result, state, provider.key, usage);
          if (cut !== undefined && !client.gone) state.errorKind = classifyError(cut).kind;
          watch.forwarded(result.upstream.status, cut === undefined ? undefined : state.errorKind);
          return;
        }
        watch.answered(result);
        if (decision.action === 'deliver') {
          if (result.type === 'error') sendNetworkError(res, api, result.classified, state);
          else sendAnswer(res, result, state, provider.key, usage);
          return;
        }
        failedAttempt(state, provider.key, result);
        if (decision.action === 'switch') watch.failover();
        if (decision.action === 'wait' && !(await client.wait(decision.ms))) break;
      }
      if (stopped && !client.gone) throw PROXY_CLOSED;
      clientLeft(state); // nobody is listening, so write nothing
    } catch (error) {
      if (client.gone) clientLeft(state);
      else if (error instanceof HttpError) sendError(res, api, error);
      else throw error;
    } finally {
      stopWatching();
      stopListening();
      if (failover) policy.finish(failover);
      shutdown.leave();
    }
  };
}
