/**
 * A proxy route: read the body once, let the failover policy pick a provider among those serving
 * the route's API, forward, act on the policy's decision after each attempt, and pass the final
 * answer back faithfully (see `Exchange`). A request that continues a stored response goes to the
 * provider holding it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Api, ProxyRoute } from '../apis/api.js';
import { HttpError, invalidRequest, openAiError } from '../errors/openai-error.js';
import { readJsonBody } from '../http/read-body.js';
import type { RequestState } from '../http/request-state.js';
import type { ProviderIndex } from '../registry/provider-index.js';
import { endpointUrl } from '../registry/endpoint.js';
import type { ProviderApi, ResolvedProvider } from '../registry/types.js';
import { upstreamHeaders } from '../registry/upstream-headers.js';
import type { AttemptOutcome } from '../resilience/failover.js';
import type { AttemptResult } from './attempt.js';
import type { ProxyConfig } from './config.js';
import { Exchange } from './exchange.js';
import { withStreamUsage } from './include-usage.js';
import { modelSpan, upstreamBody } from './rewrite-model.js';
import { forwardedHeaders, queryOf, withQuery } from './upstream-target.js';

export type { ProxyConfig, ProxyTimeouts } from './config.js';
export { PROXY_CLOSED } from './exchange.js';

const MAX_MODEL_LENGTH = 256;

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

const modelNotFound = (message: string): HttpError => new HttpError(404, openAiError(message, 'invalid_request_error', 'model_not_found', 'model'));

/**
 * The provider holding the response a request continues, alone; or, when the proxy does not know
 * that response, those serving the API (the upstream then answers for itself).
 */
async function continuing(config: ProxyConfig, api: Api, index: ProviderIndex, model: string, responseId: string): Promise<readonly ResolvedProvider[]> {
  const home = await config.homes.find(responseId, index);
  if (home === undefined) return index.servedBy(api.name as ProviderApi, model);
  if (!home.models.has(model)) throw modelNotFound(`The model \`${model}\` is not served by the provider that holds \`${responseId}\``);
  return [home];
}

function outcomeOf(result: Exclude<AttemptResult, { type: 'stream' }>): AttemptOutcome {
  return result.type === 'error' ? { type: 'error', kind: result.classified.kind } : { type: 'answer', status: result.upstream.status, retryAfter: result.upstream.headers['retry-after'] };
}

function failedAttempt(state: RequestState, provider: string, result: Exclude<AttemptResult, { type: 'stream' | 'forward' }>): void {
  (state.failedAttempts ??= []).push(result.type === 'error' ? { provider, error_kind: result.classified.kind } : { provider, status: result.upstream.status });
}

export function createProxyHandler(config: ProxyConfig, api: Api, route: ProxyRoute) {
  const { failover: policy } = config;
  const mayFailOver = (status: number): boolean => status >= 300 || config.retryOnStatus.includes(status);
  const askUsage = config.includeUsageInStreams && api.streamUsageOptIn === true;

  return async function proxyHandler(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const exchange = new Exchange(config, api, req, res);
    const { state, client, watch } = exchange;
    await exchange.run(async () => {
      const body = await readJsonBody(req, config.bodyLimit);
      if (body.hostParsed) config.onHostParsedBody?.();
      const { model, stream } = validate(body.parsed);
      modelSpan(body); // a second top-level `model` is refused before anything is looked up
      state.model = model;
      const found = config.index();
      const index = found instanceof Promise ? await found : found;
      const continued = api.affinity?.continues(body.parsed);
      // Proxy routes belong to APIs that providers serve, never to `models`.
      const candidates = continued === undefined ? index.servedBy(api.name as ProviderApi, model) : await continuing(config, api, index, model, continued);
      const admitted = watch.admit(body.parsed, model, stream, candidates.length > 0); // hooks.onRequest
      if (admitted) await admitted;
      const failover = policy.start(model, candidates);
      if (!failover) throw modelNotFound(`The model \`${model}\` does not exist or is not served by any enabled provider`);
      const forwarded = forwardedHeaders(req, api.forwardHeaders);
      const query = route.keepQuery ? queryOf(req.url) : '';
      const sent = askUsage && stream ? withStreamUsage(body) : body;
      try {
        for (let attempt = 1; !client.gone && !exchange.stopped; attempt++) {
          const claim = policy.attempting(failover); // a promise only to claim a shared half-open probe
          if (claim) {
            await claim;
            if (client.gone || exchange.stopped) break;
          }
          const provider = failover.provider;
          const upstreamModel = provider.models.get(model)!.upstream;
          state.provider = provider.key;
          state.upstreamModel = upstreamModel;
          state.attempts = attempt;
          const result = await exchange.attempt({
            method: route.method,
            url: withQuery(endpointUrl(provider, route.upstreamPath), query),
            headers: watch.attempt(provider, attempt, upstreamHeaders(provider, state.requestId, forwarded)),
            body: upstreamBody(sent, upstreamModel),
            stream,
            mayFailOver,
          });
          if (!result) break;
          if (result.type === 'stream') {
            const verdict = await exchange.stream(result, provider);
            if (verdict !== 'release') policy.settle(failover, verdict);
            return;
          }
          if (result.type === 'forward') {
            // Booked once the body is over: a provider that cuts large answers short is failing.
            const cut = await exchange.forward(result, provider);
            policy.settle(failover, cut === 'connection' || cut === 'timeout' ? 'failure' : 'success');
            return;
          }
          const decision = policy.decide(outcomeOf(result), attempt, failover);
          watch.answered(result);
          if (decision.action === 'deliver') return exchange.answer(result, provider);
          failedAttempt(state, provider.key, result);
          if (decision.action === 'switch') watch.failover();
          if (decision.action === 'wait' && !(await client.wait(decision.ms))) break;
        }
        exchange.endWithoutAnswer();
      } finally {
        policy.finish(failover);
      }
    });
  };
}
