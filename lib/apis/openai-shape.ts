/** The error envelopes shared by the OpenAI-style APIs (chat, completions, embeddings, responses, models). */
import type { ErrorFields } from '../errors/openai-error.js';
import type { StreamTap } from './api.js';

/** `{ "error": { message, type, param, code } }`, whatever the status. */
export function openAiErrorBody(_status: number, error: ErrorFields): unknown {
  return { error };
}

/** The SSE event that reports a proxy error inside a chat or completions stream. */
export function openAiStreamErrorEvent(code: string, message: string): string {
  return `data: ${JSON.stringify({ error: { message, type: 'proxy_error', param: null, code } })}\n\n`;
}

/** These streams need no per-stream state, so every stream shares one tap. */
export const OPENAI_STREAM_TAP: StreamTap = { errorEvent: openAiStreamErrorEvent };
