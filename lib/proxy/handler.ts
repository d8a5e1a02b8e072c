/**
 * The proxy route: read the body once, pick a provider for the model, forward, and pass the
 * answer back faithfully (buffered JSON or an unbuffered SSE stream). Errors the proxy makes
 * itself are OpenAI-shaped; upstream errors pass through untouched.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { classifyError } from '../errors/classify.js';
import { HttpError, invalidRequest, openAiError } from '../errors/openai-error.js';
import type { UpstreamResponse, UpstreamTransport } from '../fetch/types.js';
import type { RequestContext } from '../logging/context.js';
import { requestContext } from '../logging/context.js';
import type { ProviderIndex } from '../registry/provider-index.js';
import type { ResolvedProvider } from '../registry/types.js';
import type { WeightedRoundRobin } from '../registry/weighted-round-robin.js';
import { pipeSse } from '../sse/pipe.js';
import { copyResponseHeaders, upstreamHeaders } from './headers.js';
import type { JsonBody } from './read-body.js';
import { readJsonBody } from './read-body.js';
import { readAll } from './read-upstream-body.js';
import { networkErrorBody, sendJson, sendOpenAiError } from './respond.js';
import { rewriteModel } from './rewrite-model.js';
import { UpstreamCall } from './upstream-call.js';

export type ProxyEndpoint = '/chat/completions' | '/completions' | '/embeddings';

export interface ProxyTimeouts {
  requestMs: number;
  ttftMs: number;
  streamIdleMs: number;
}

/** What the handler needs, resolved once by the router. */
export interface ProxyConfig {
  index: () => ProviderIndex | Promise<ProviderIndex>;
  transport: UpstreamTransport;
  selector: WeightedRoundRobin;
  timeouts: ProxyTimeouts;
  heartbeatMs: number;
  bodyLimit: number;
}

const MAX_MODEL_LENGTH = 256;

interface ProxyRequest {
  model: string;
  stream: boolean;
  body: JsonBody;
}

function validate(body: JsonBody): ProxyRequest {
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
  return { model, stream: stream === true, body };
}

function isEventStream(headers: UpstreamResponse['headers']): boolean {
  const type = headers['content-type'];
  return typeof type === 'string' && type.toLowerCase().startsWith('text/event-stream');
}

function serverTiming(context: RequestContext, call: UpstreamCall, headersAt: number): string {
  return `proxy;dur=${(call.sentAt - context.startedAt).toFixed(1)}, upstream;dur=${(headersAt - call.sentAt).toFixed(1)}`;
}

/** Starts the response with the upstream's status and safe headers, plus our own. */
function startResponse(res: ServerResponse, upstream: UpstreamResponse, context: RequestContext, call: UpstreamCall, provider: ResolvedProvider): void {
  res.statusCode = upstream.status;
  copyResponseHeaders(res, upstream.headers);
  res.setHeader('x-request-id', context.requestId);
  res.setHeader('server-timing', serverTiming(context, call, context.upstreamHeadersAt ?? performance.now()));
  res.setHeader('x-llm-proxy-provider', provider.key);
  res.setHeader('x-llm-proxy-attempts', String(context.attempts ?? 1));
}

export function createProxyHandler(config: ProxyConfig, endpoint: ProxyEndpoint) {
  const { timeouts } = config;

  async function deliver(req: IncomingMessage, res: ServerResponse, context: RequestContext, call: UpstreamCall, upstream: UpstreamResponse, provider: ResolvedProvider, stream: boolean): Promise<void> {
    if (upstream.status < 300 && isEventStream(upstream.headers)) {
      call.clearDeadline(); // from here the stream's own clocks (TTFT, idle) govern
      startResponse(res, upstream, context, call, provider);
      const result = await pipeSse(upstream.body, res, {
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
      if (result.reason === 'client_closed') {
        context.status = 499;
        context.errorKind = 'client_disconnect';
      } else if (result.reason !== 'done') {
        context.streamError = result.reason;
      }
      return;
    }
    // A plain answer (or an error answer to a stream request): read it whole, then send it.
    if (stream) {
      call.deadline(timeouts.requestMs + timeouts.ttftMs, 'send its answer');
    }
    const bytes = await readAll(upstream.body);
    call.clearDeadline();
    startResponse(res, upstream, context, call, provider);
    res.setHeader('content-length', bytes.length);
    res.end(bytes);
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
    try {
      const request = validate(await readJsonBody(req, config.bodyLimit));
      context.model = request.model;
      const index = await config.index();
      const provider = config.selector.pick(request.model, index.candidates(request.model));
      if (!provider) {
        throw new HttpError(404, openAiError(`The model \`${request.model}\` does not exist or is not served by any enabled provider`, 'invalid_request_error', 'model_not_found', 'model'));
      }
      const upstreamModel = provider.models.get(request.model)!.upstream;
      context.provider = provider.key;
      context.upstreamModel = upstreamModel;
      context.attempts = 1;
      if (clientGone) throw new Error('client gone');
      call = new UpstreamCall(config.transport, {
        url: provider.baseUrl + endpoint,
        method: 'POST',
        headers: upstreamHeaders(provider, context.requestId),
        body: Buffer.from(rewriteModel(request.body, upstreamModel)),
      });
      context.upstreamSentAt = call.sentAt;
      call.deadline(request.stream ? Math.min(timeouts.requestMs, timeouts.ttftMs) : timeouts.requestMs, request.stream ? 'answer' : 'answer in full');
      const upstream = await call.send();
      context.upstreamHeadersAt = performance.now();
      await deliver(req, res, context, call, upstream, provider, request.stream);
    } catch (error) {
      call?.clearDeadline();
      if (error instanceof HttpError) {
        sendOpenAiError(res, error.status, error.body, error.headers);
        return;
      }
      const classified = classifyError(clientGone ? call?.controller.signal.reason ?? { code: 'client_closed_request' } : call ? call.causeOf(error) : error);
      context.errorKind = classified.kind;
      if (classified.kind === 'client_disconnect' || clientGone) {
        context.status = 499;
        context.errorKind = 'client_disconnect';
        return; // nobody is listening: write nothing
      }
      if (res.headersSent) {
        res.destroy(); // cannot change a status already sent
        return;
      }
      sendJson(res, classified.status, networkErrorBody(classified));
    } finally {
      res.removeListener('close', onClose);
    }
  };
}
