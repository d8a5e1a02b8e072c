/**
 * Anthropic Messages: `POST /v1/messages` (Claude Code posts `?beta=true`, which is kept) and
 * `POST /v1/messages/count_tokens`. The client's `anthropic-version` and `anthropic-beta` travel
 * upstream as they are; proxy-made errors are in Anthropic's envelope.
 */
import { usageReaders } from '../usage/readers.js';
import type { Api, StreamTap } from './api.js';
import { anthropicErrorBody, anthropicStreamErrorEvent } from './anthropic-shape.js';
import { FailureWatch } from './stream-events.js';

const ERROR_MARKERS: readonly string[] = Object.freeze(['event: error']);
const ERROR_TYPES: readonly string[] = Object.freeze(['error']);

/** Watches a stream for Anthropic's `event: error` (e.g. `overloaded_error` mid-stream). */
class MessagesStreamTap implements StreamTap {
  readonly #failures = new FailureWatch(ERROR_MARKERS, ERROR_TYPES);

  get upstreamFailed(): boolean {
    return this.#failures.failed;
  }

  chunk(chunk: Buffer): void {
    this.#failures.push(chunk);
  }

  errorEvent(code: string, message: string): string {
    return anthropicStreamErrorEvent(code, message);
  }
}

export const messagesApi: Api = {
  name: 'messages',
  routes: [
    { kind: 'proxy', method: 'POST', path: '/v1/messages', upstreamPath: '/messages', keepQuery: true },
    { kind: 'proxy', method: 'POST', path: '/v1/messages/count_tokens', upstreamPath: '/messages/count_tokens', keepQuery: true },
  ],
  errorBody: anthropicErrorBody,
  streamTap: () => new MessagesStreamTap(),
  usage: usageReaders.messages,
  forwardHeaders: Object.freeze(['anthropic-version', 'anthropic-beta']),
};
