/** OpenAI legacy Completions: `POST /v1/completions`. */
import type { Api } from './api.js';
import { usageReaders } from '../usage/readers.js';
import { OPENAI_STREAM_TAP, openAiErrorBody } from './openai-shape.js';

export const completionsApi: Api = {
  name: 'completions',
  routes: [{ kind: 'proxy', method: 'POST', path: '/v1/completions', upstreamPath: '/completions' }],
  errorBody: openAiErrorBody,
  streamTap: () => OPENAI_STREAM_TAP,
  usage: usageReaders.completions,
  streamUsageOptIn: true,
};
