/**
 * OpenAI Models, answered by the router: `GET /v1/models` lists every client-facing model an
 * enabled provider serves, whatever its type; `GET /v1/models/{model}` (ids may contain `/`)
 * retrieves one. A request carrying `anthropic-version` (the Anthropic SDK's `models.list()` and
 * `models.retrieve()`) gets Anthropic's shapes instead.
 */
import type { IncomingMessage } from 'node:http';
import type { ProviderIndex } from '../registry/provider-index.js';
import { sendJson } from '../http/respond.js';
import { invalidRequest } from '../errors/openai-error.js';
import type { Api } from './api.js';
import { OPENAI_STREAM_TAP, openAiErrorBody } from './openai-shape.js';

// Upstreams do not tell us when a model was created; the router's start is a stable stand-in.
const created = Math.floor(Date.now() / 1000);
const createdAt = new Date(created * 1000).toISOString();

const wantsAnthropic = (req: IncomingMessage): boolean => req.headers['anthropic-version'] !== undefined;

function modelObject(index: ProviderIndex, id: string) {
  return { id, object: 'model', created, owned_by: index.candidates(id)[0].key };
}

/** Anthropic's model object; the router knows no display name but the id. */
const anthropicModel = (id: string) => ({ type: 'model', id, display_name: id, created_at: createdAt });

export const modelsApi: Api = {
  name: 'models',
  routes: [
    {
      kind: 'local',
      method: 'GET',
      path: '/v1/models',
      async handle({ req, res, index }) {
        const current = await index();
        const ids = current.models();
        if (wantsAnthropic(req)) {
          sendJson(res, 200, { data: ids.map(anthropicModel), has_more: false, first_id: ids[0] ?? null, last_id: ids.at(-1) ?? null });
        } else {
          sendJson(res, 200, { object: 'list', data: ids.map((id) => modelObject(current, id)) });
        }
      },
    },
    {
      kind: 'local',
      method: 'GET',
      path: '/v1/models/*',
      async handle({ req, res, index, params }) {
        const current = await index();
        const id = params['*'];
        if (current.candidates(id).length === 0) {
          throw invalidRequest(404, `The model \`${id}\` does not exist or is not served by any enabled provider`, 'model_not_found', 'model');
        }
        sendJson(res, 200, wantsAnthropic(req) ? anthropicModel(id) : modelObject(current, id));
      },
    },
  ],
  errorBody: openAiErrorBody,
  streamTap: () => OPENAI_STREAM_TAP,
};
