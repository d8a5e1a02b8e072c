/** OpenAI Chat Completions: `POST /v1/chat/completions`. */
import type { Api } from './api.js';
import { usageReaders } from '../usage/readers.js';
import { OPENAI_STREAM_TAP, openAiErrorBody } from './openai-shape.js';

export const chatApi: Api = {
  name: 'chat',
  routes: [{ kind: 'proxy', method: 'POST', path: '/v1/chat/completions', upstreamPath: '/chat/completions' }],
  errorBody: openAiErrorBody,
  streamTap: () => OPENAI_STREAM_TAP,
  usage: usageReaders.chat,
  streamUsageOptIn: true,
};
