/** OpenAI Embeddings: `POST /v1/embeddings` (never streamed). */
import type { Api } from './api.js';
import { usageReaders } from '../usage/readers.js';
import { OPENAI_STREAM_TAP, openAiErrorBody } from './openai-shape.js';

export const embeddingsApi: Api = {
  name: 'embeddings',
  routes: [{ kind: 'proxy', method: 'POST', path: '/v1/embeddings', upstreamPath: '/embeddings' }],
  errorBody: openAiErrorBody,
  streamTap: () => OPENAI_STREAM_TAP,
  usage: usageReaders.embeddings,
};
