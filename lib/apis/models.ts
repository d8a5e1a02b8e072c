/**
 * OpenAI Models, answered by the router: `GET /v1/models` lists every client-facing model an
 * enabled provider serves; `GET /v1/models/{model}` (ids may contain `/`) retrieves one.
 */
import type { ProviderIndex } from '../registry/provider-index.js';
import { sendJson } from '../http/respond.js';
import { invalidRequest } from '../errors/openai-error.js';
import type { Api } from './api.js';
import { OPENAI_STREAM_TAP, openAiErrorBody } from './openai-shape.js';

// Upstreams do not tell us when a model was created; the router's start is a stable stand-in.
const created = Math.floor(Date.now() / 1000);

function modelObject(index: ProviderIndex, id: string) {
  return { id, object: 'model', created, owned_by: index.candidates(id)[0].key };
}

export const modelsApi: Api = {
  name: 'models',
  routes: [
    {
      kind: 'local',
      method: 'GET',
      path: '/v1/models',
      async handle({ res, index }) {
        const current = await index();
        sendJson(res, 200, { object: 'list', data: current.models().map((id) => modelObject(current, id)) });
      },
    },
    {
      kind: 'local',
      method: 'GET',
      path: '/v1/models/*',
      async handle({ res, index, params }) {
        const current = await index();
        const id = params['*'];
        if (current.candidates(id).length === 0) {
          throw invalidRequest(404, `The model \`${id}\` does not exist or is not served by any enabled provider`, 'model_not_found', 'model');
        }
        sendJson(res, 200, modelObject(current, id));
      },
    },
  ],
  errorBody: openAiErrorBody,
  streamTap: () => OPENAI_STREAM_TAP,
};
