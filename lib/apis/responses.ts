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
import { eventType, FailureWatch } from './stream-events.js';

// `failed` (rare in text, and its rarest byte rarer still) finds `response.failed` by its event
// line or by its data; `event: error` finds an error event.
const FAILURE_MARKERS: readonly string[] = Object.freeze(['event: error', 'failed']);
const FAILURE_TYPES: readonly string[] = Object.freeze(['error', 'response.failed']);
/** Every event with data matches: only the first event is ever scanned for it. */
const FIRST_EVENT: readonly string[] = Object.freeze(['data']);

/**
 * Reports the id of `response.created` (a Responses stream's first event), notes upstream
 * failures, and numbers the proxy's own error event after the last forwarded one.
 */
class ResponsesStreamTap implements StreamTap {
  readonly #failures = new FailureWatch(FAILURE_MARKERS, FAILURE_TYPES);
  readonly #sequence = new SequenceNumbers();
  /** Reads the first event, then is dropped. */
  #first: SseEventScanner | undefined;

  constructor(hooks: StreamTapHooks) {
    this.#first = new SseEventScanner({
      markers: FIRST_EVENT,
      onEvent: (event, data) => {
        if (this.#first === undefined) return; // a later event of the same chunk
        this.#first = undefined;
        if (eventType(event, data) !== 'response.created') return;
        const id = responseIdOfCreated(data);
        if (id !== undefined) hooks.responseId(id);
      },
    });
  }

  get upstreamFailed(): boolean {
    return this.#failures.failed;
  }

  chunk(chunk: Buffer): void {
    this.#first?.push(chunk);
    this.#sequence.push(chunk);
    this.#failures.push(chunk);
  }

  errorEvent(code: string, message: string): string {
    const event = { type: 'error', code, message, param: null, sequence_number: this.#sequence.next };
    return `event: error\ndata: ${JSON.stringify(event)}\n\n`;
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
