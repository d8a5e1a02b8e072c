/** Every API the router serves: one module each, one line here. */
import type { Api } from './api.js';
import { chatApi } from './chat.js';
import { completionsApi } from './completions.js';
import { embeddingsApi } from './embeddings.js';
import { messagesApi } from './messages.js';
import { modelsApi } from './models.js';
import { responsesApi } from './responses.js';

export const APIS: readonly Api[] = [chatApi, completionsApi, embeddingsApi, responsesApi, messagesApi, modelsApi];

/** The API whose route paths best prefix `path` (`/v1/messages/batches` → messages), for the envelope of a 404. */
export function apiOfPath(path: string): Api | undefined {
  let best: Api | undefined;
  let length = 0;
  for (const api of APIS) {
    for (const route of api.routes) {
      const prefix = route.path.split('/:')[0].replace(/\/\*$/, '');
      if (prefix.length > length && (path === prefix || path.startsWith(`${prefix}/`))) {
        best = api;
        length = prefix.length;
      }
    }
  }
  return best;
}
