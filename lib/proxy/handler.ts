/**
 * The proxy route: read the body once, pick a provider for the model, forward, fail over while
 * no byte has reached the client, and pass the final answer back faithfully (buffered JSON or an
 * unbuffered SSE stream). Errors the proxy makes itself are OpenAI-shaped.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError, invalidRequest, openAiError } from '../errors/openai-error.js';
import type { UpstreamTransport } from '../transport/types.js';
import type { RequestContext } from '../http/request-state.js';
import { requestContext } from '../http/request-state.js';
import type { LogSink } from '../logging/request-logger.js';
import type { ProviderIndex } from '../registry/provider-index.js';
import type { ResolvedProvider } from '../registry/types.js';
import type { WeightedRoundRobin } from '../registry/weighted-round-robin.js';
import type { CircuitBreakers } from '../resilience/breaker.js';
import { chooseProvider } from '../resilience/choose-provider.js';
import type { RetryOptions } from '../resilience/retry.js';
import { backoffMs, isProviderFailure, retryAfterMs } from '../resilience/retry.js';
import { pipeSse } from '../sse/pipe.js';
import type { AttemptResult } from './attempt.js';
import { runAttempt } from './attempt.js';
import { copyResponseHeaders } from './headers.js';
import type { JsonBody } from '../http/read-body.js';
import { readJsonBody } from '../http/read-body.js';
import { networkErrorBody, sendJson, sendOpenAiError } from '../http/respond.js';
import { upstreamBody } from './rewrite-model.js';
import type { UpstreamCall } from './upstream-call.js';

export type ProxyEndpoint = '/chat/completions' | '/completions' | '/embeddings';

export interface ProxyTimeouts {
  /** Non-streaming: until the upstream body is complete; streaming: until its headers. */
  requestMs: number;
  /** Streaming: from the upstream request to the first body chunk. */
  ttftMs: number;
  /** Streaming: longest silence between chunks. */
  streamIdleMs: number;
}

/** What the handler needs, resolved once by the router. */
export interface ProxyConfig {
  index: () => ProviderIndex | Promise<ProviderIndex>;
  transport: UpstreamTransport;
  selector: WeightedRoundRobin;
  breakers: CircuitBreakers;
  retry: RetryOptions;
  timeouts: ProxyTimeouts;
  heartbeatMs: number;
  bodyLimit: number;
  logger: LogSink;
}

const MAX_MODEL_LENGTH = 256;

function validate(body: JsonBody): { model: string; stream: boolean } {
  const { model, stream } = body.parsed;
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

/** Starts the response with the upstream's status and safe headers, plus our own (x-request-id is already set by the router). */
function startResponse(res: ServerResponse, result: Exclude<AttemptResult, { type: 'error' }>, context: RequestContext, provider: ResolvedProvider): void {
  const { call, upstream } = result;
  res.statusCode = upstream.status;
  copyResponseHeaders(res, upstream.headers);
  const headersAt = context.upstreamHeadersAt ?? performance.now();
  res.setHeader('server-timing', `proxy;dur=${(call.sentAt - context.startedAt).toFixed(1)}, upstream;dur=${(headersAt - call.sentAt).toFixed(1)}`);
  res.setHeader('x-llm-proxy-provider', provider.key);
  res.setHeader('x-llm-proxy-attempts', String(context.attempts ?? 1));
}

/** Waits `ms`, or less if the client leaves; resolves false when it left. */
function waitUnlessGone(ms: number, gone: () => boolean, res: ServerResponse): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      res.removeListener('close', done);
      resolve(!gone());
    };
    const timer = setTimeout(done, ms);
    res.once('close', done);
  });
}

export function createProxyHandler(config: ProxyConfig, endpoint: ProxyEndpoint) {
  const { timeouts, retry, breakers } = config;

  /** How long to wait before retrying the same provider, or undefined when that is not to be done. */
  function sameProviderWait(result: Exclude<AttemptResult, { type: 'stream' }>, attempt: number): number | undefined {
    if (!retry.sameProvider) return undefined;
    const asked = result.type === 'answer' ? retryAfterMs(result.upstream.headers['retry-after']) : undefined;
    const wait = asked ?? backoffMs(attempt, retry);
    return wait > retry.maxDelayMs ? undefined : wait;
  }

  async function deliverStream(res: ServerResponse, result: Extract<AttemptResult, { type: 'stream' }>, context: RequestContext, provider: ResolvedProvider, model: string): Promise<void> {
    const { call } = result;
    startResponse(res, result, context, provider);
    const outcome = await pipeSse(result.upstream.body, res, {
      startedAt: call.sentAt,
      ttftMs: timeouts.ttftMs,
      idleMs: timeouts.streamIdleMs,
      heartbeatMs: config.heartbeatMs,
      abort: (reason) => (reason === 'client_closed' ? call.clientGone() : call.abort(new Error(reason))),
      onHeaders: () => {
        context.headersSentAt ??= performance.now();
      },
      onFirstChunk: () => {
        context.firstChunkAt = performance.now();
      },
    });
    context.streamEndedAt = performance.now();
    if (outcome.reason === 'client_closed') {
      context.status = 499;
      context.errorKind = 'client_disconnect';
    } else if (outcome.reason === 'done') {
      breakers.recordSuccess(provider.id, model);
    } else {
      context.streamError = outcome.reason;
      breakers.recordFailure(provider.id, model);
    }
  }

  function deliver(res: ServerResponse, result: Exclude<AttemptResult, { type: 'stream' }>, context: RequestContext, provider: ResolvedProvider): void {
    if (result.type === 'error') {
      context.errorKind = result.classified.kind;
      sendJson(res, result.classified.status, networkErrorBody(result.classified), { 'x-llm-proxy-attempts': String(context.attempts ?? 1) });
      return;
    }
    startResponse(res, result, context, provider);
    res.setHeader('content-length', result.bytes.length);
    res.end(result.bytes);
  }

  return async function proxyHandler(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const context = requestContext(req);
    let call: UpstreamCall | undefined;
    let clientGone = false;
    const onClose = (): void => {
      if (res.writableFinished) return;
      clientGone = true;
      call?.clientGone();
    };
    res.once('close', onClose);
    let probed: { provider: ResolvedProvider; model: string } | undefined;
    try {
      const body = await readJsonBody(req, config.bodyLimit);
      const { model, stream } = validate(body);
      context.model = model;
      let index: ProviderIndex;
      try {
        index = await config.index();
      } catch (error) {
        config.logger.log('error', 'provider registry failed', { error: error instanceof Error ? error.message : String(error) });
        throw new HttpError(500, openAiError('The provider registry is unavailable', 'server_error', 'provider_registry_error'));
      }
      const candidates = index.candidates(model);
      let provider = chooseProvider(model, candidates, config.selector, breakers);
      if (!provider) {
        throw new HttpError(404, openAiError(`The model \`${model}\` does not exist or is not served by any enabled provider`, 'invalid_request_error', 'model_not_found', 'model'));
      }
      const tried = new Set<ResolvedProvider>();
      for (let attempt = 1; ; attempt++) {
        if (clientGone) break;
        const upstreamModel = provider.models.get(model)!.upstream;
        Object.assign(context, { provider: provider.key, upstreamModel, attempts: attempt });
        tried.add(provider);
        breakers.onAttempt(provider.id, model);
        probed = { provider, model };
        const result = await runAttempt({
          transport: config.transport,
          provider,
          url: provider.baseUrl + endpoint,
          body: upstreamBody(body, upstreamModel),
          requestId: context.requestId,
          stream,
          requestMs: timeouts.requestMs,
          ttftMs: timeouts.ttftMs,
          onCall: (current) => {
            call = current;
            context.upstreamSentAt = current.sentAt;
          },
          onHeaders: () => {
            context.upstreamHeadersAt = performance.now();
          },
        });
        if (clientGone || (result.type === 'error' && result.classified.kind === 'client_disconnect')) break;
        if (result.type === 'stream') {
          await deliverStream(res, result, context, provider, model);
          return;
        }
        const status = result.type === 'answer' ? result.upstream.status : undefined;
        const networkFailure = result.type === 'error' && (result.classified.kind === 'connection' || result.classified.kind === 'timeout');
        if (networkFailure || (status !== undefined && isProviderFailure(status))) {
          breakers.recordFailure(provider.id, model);
        } else if (status !== undefined) {
          breakers.recordSuccess(provider.id, model);
        }
        const retryable = networkFailure || (status !== undefined && retry.onStatus.includes(status));
        if (!retryable || attempt >= retry.maxAttempts) {
          deliver(res, result, context, provider);
          return;
        }
        (context.failedAttempts ??= []).push(
          result.type === 'error' ? { provider: provider.key, error_kind: result.classified.kind } : { provider: provider.key, status: result.upstream.status },
        );
        const next = chooseProvider(model, index.candidates(model), config.selector, breakers, provider, tried);
        if (next) {
          provider = next; // another provider: at once, no delay
          continue;
        }
        const wait = sameProviderWait(result, attempt);
        if (wait === undefined) {
          deliver(res, result, context, provider);
          return;
        }
        if (!(await waitUnlessGone(wait, () => clientGone, res))) break;
        // then the same provider again
      }
      // The client left: nobody is listening, so write nothing.
      context.status = 499;
      context.errorKind = 'client_disconnect';
    } catch (error) {
      if (clientGone) {
        context.status = 499;
        context.errorKind = 'client_disconnect';
      } else if (error instanceof HttpError) {
        sendOpenAiError(res, error.status, error.body, error.headers);
      } else {
        throw error;
      }
    } finally {
      res.removeListener('close', onClose);
      // An attempt that ended neither as a success nor as a failure must not hold a half-open breaker.
      if (probed) breakers.releaseProbe(probed.provider.id, probed.model);
    }
  };
}
