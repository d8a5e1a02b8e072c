/** `GET /v1/models`: every client-facing model an enabled provider serves, OpenAI list shape. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ProviderIndex } from '../registry/provider-index.js';
import { sendJson } from '../http/respond.js';

export function listModels(index: () => ProviderIndex | Promise<ProviderIndex>) {
  const created = Math.floor(Date.now() / 1000);
  return async (_req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const current = await index();
    const data = current.models().map((id) => ({ id, object: 'model', created, owned_by: current.candidates(id)[0].key }));
    sendJson(res, 200, { object: 'list', data });
  };
}
