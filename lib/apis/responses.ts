/**
 * OpenAI Responses: `POST /v1/responses`, and the follow-ups on a stored response (retrieve,
 * delete, cancel, input items), which go to the provider that created it. The proxy's own errors
 * are OpenAI-shaped; inside a stream they are Responses `error` events with a `sequence_number`.
 */
import { SseEventScanner } from '../sse/event-scanner.js';
import { usageReaders } from '../usage/readers.js';
import type { Api, StreamTap, StreamTapHooks } from './api.js';
import { openAiErrorBody } from './openai-shape.js';
import { responseIdOfAnswer, responseIdOfCreated } from './response-id.js';
import { SequenceNumbers } from './sequence-number.js';
import { ERROR_EVENT_MARKERS, eventType } from './stream-events.js';

const MARKERS: readonly string[] = Object.freeze(['response.created', 'response.failed', ...ERROR_EVENT_MARKERS]);

/** Reports the response id of `response.created`, notes upstream failures, and numbers the proxy's error event. */
class ResponsesStreamTap implements StreamTap {
  upstreamFailed = false;
  #named = false;
  readonly #sequence = new SequenceNumbers();
  readonly #scanner: SseEventScanner;

  constructor(private readonly hooks: StreamTapHooks) {
    this.#scanner = new SseEventScanner({ markers: MARKERS, onEvent: (event, data) => this.#onEvent(event, data) });
  }

  chunk(chunk: Buffer): void {
    this.#sequence.push(chunk);
    if (!this.upstreamFailed) this.#scanner.push(chunk);
  }

  errorEvent(code: string, message: string): string {
    const event = { type: 'error', code, message, param: null, sequence_number: this.#sequence.next };
    return `event: error\ndata: ${JSON.stringify(event)}\n\n`;
  }

  #onEvent(event: string | undefined, data: string): void {
    const type = eventType(event, data);
    if (type === 'error' || type === 'response.failed') {
      this.upstreamFailed = true;
    } else if (type === 'response.created' && !this.#named) {
      const id = responseIdOfCreated(data);
      if (id !== undefined) {
        this.#named = true;
        this.hooks.responseId(id);
      }
    }
  }
}

export const responsesApi: Api = {
  name: 'responses',
  routes: [
    { kind: 'proxy', method: 'POST', path: '/v1/responses', upstreamPath: '/responses' },
    { kind: 'follow-up', method: 'GET', path: '/v1/responses/:id', upstreamPath: '/responses/:id', keepQuery: true },
    { kind: 'follow-up', method: 'DELETE', path: '/v1/responses/:id', upstreamPath: '/responses/:id' },
    { kind: 'follow-up', method: 'POST', path: '/v1/responses/:id/cancel', upstreamPath: '/responses/:id/cancel' },
    { kind: 'follow-up', method: 'GET', path: '/v1/responses/:id/input_items', upstreamPath: '/responses/:id/input_items', keepQuery: true },
  ],
  errorBody: openAiErrorBody,
  streamTap: (hooks) => new ResponsesStreamTap(hooks),
  usage: usageReaders.responses,
  affinity: {
    idOfAnswer: responseIdOfAnswer,
    continues: (body) => (typeof body.previous_response_id === 'string' && body.previous_response_id.length > 0 ? body.previous_response_id : undefined),
  },
};
