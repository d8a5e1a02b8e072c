/**
 * A follow-up route (`GET /v1/responses/:id`, delete, cancel, input items): no body and no model;
 * it goes to the provider that created the response, in one attempt, since the state lives there
 * and nowhere else. An id the proxy does not know goes to the only provider serving the API, when
 * there is exactly one; else the proxy cannot tell where it lives: 404 `response_not_found`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Api, FollowUpRoute } from '../apis/api.js';
import { HttpError, openAiError } from '../errors/openai-error.js';
import { endpointUrl } from '../registry/endpoint.js';
import type { ProviderIndex } from '../registry/provider-index.js';
import type { ProviderApi, ResolvedProvider } from '../registry/types.js';
import { upstreamHeaders } from '../registry/upstream-headers.js';
import type { ProxyConfig } from './config.js';
import { Exchange } from './exchange.js';
import { forwardedHeaders, queryOf, withQuery } from './upstream-target.js';

/** `?stream=true` asks a retrieve for the stored events as a stream. */
const STREAM_QUERY = /[?&]stream=true(?:&|$)/;

function responseNotFound(id: string, serving: number | 'invalid'): HttpError {
  const why =
    serving === 'invalid' ? 'that is not a response id' : serving === 0 ? 'no enabled provider serves this API' : `it did not proxy its creation (or has forgotten it), and ${serving} providers serve this API`;
  return new HttpError(404, openAiError(`Response \`${id}\` not found: the proxy does not know which provider holds it (${why})`, 'invalid_request_error', 'response_not_found'));
}

async function homeOf(config: ProxyConfig, api: Api, index: ProviderIndex, id: string): Promise<ResolvedProvider> {
  // `.` and `..` survive encodeURIComponent and would be resolved as path segments upstream,
  // taking the provider's key to another path (`/v1/responses/..` is `/v1/`): never an id.
  if (id === '.' || id === '..' || id === '') throw responseNotFound(id, 'invalid');
  const known = await config.homes.find(id, index);
  if (known) return known;
  const serving = index.serving(api.name as ProviderApi); // follow-up routes belong to served APIs
  if (serving.length === 1) return serving[0];
  throw responseNotFound(id, serving.length);
}

/** `paramsOf` gives the path parameters of the route that matched (the router's dispatch knows them). */
export function createFollowUpHandler(config: ProxyConfig, api: Api, route: FollowUpRoute, paramsOf: (req: IncomingMessage) => Record<string, string>) {
  return async function followUpHandler(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const exchange = new Exchange(config, api, req, res, true);
    const { state } = exchange;
    await exchange.run(async () => {
      const { id } = paramsOf(req);
      const provider = await homeOf(config, api, await config.index(), id);
      state.provider = provider.key;
      state.attempts = 1;
      const query = route.keepQuery ? queryOf(req.url) : '';
      const headers = exchange.watch.attempt(provider, 1, upstreamHeaders(provider, state.requestId, forwardedHeaders(req, api.forwardHeaders)));
      delete headers['content-type']; // nothing is sent
      const result = await exchange.attempt({
        method: route.method,
        url: withQuery(endpointUrl(provider, route.upstreamPath.replace(':id', encodeURIComponent(id))), query),
        headers,
        body: undefined,
        stream: STREAM_QUERY.test(query),
        mayFailOver: () => false,
      });
      if (!result) return exchange.endWithoutAnswer();
      if (result.type === 'stream') await exchange.stream(result, provider);
      else if (result.type === 'forward') await exchange.forward(result, provider);
      else {
        exchange.watch.answered(result);
        exchange.answer(result, provider);
      }
    });
  };
}
