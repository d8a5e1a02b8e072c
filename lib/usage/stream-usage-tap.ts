/**
 * Reads usage from an SSE answer while its chunks are forwarded. An `SseEventScanner` picks out the
 * few events that may carry usage (by a marker only those events contain) and only those are
 * parsed; each API's rule says which events count and how their usage adds up.
 */
import { SseEventScanner } from '../sse/event-scanner.js';
import { usageFromChat, usageFromMessages, usageFromResponses } from './normalise.js';
import type { Usage, UsageNormaliser, UsageTap } from './types.js';

type Fields = Record<string, unknown>;

/** How one API's stream reports usage. */
export interface StreamUsageRule {
  /** Strings found in the raw bytes of every event that carries usage, and in few others (freeze the array: it is then encoded once). */
  markers: readonly string[];
  /** Folds one parsed event into the usage seen so far (the API's own usage object). */
  accumulate(seen: Fields | undefined, event: string | undefined, data: Fields): Fields | undefined;
  normalise: UsageNormaliser;
}

function isObject(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Chat Completions and legacy Completions: the chunk whose `usage` is an object (sent when the client
 * asked with `stream_options.include_usage`; the other chunks then carry `"usage":null`, which is why
 * the marker is `"prompt_tokens"`). A later one wins.
 */
export const chatStreamUsage: StreamUsageRule = {
  markers: Object.freeze(['"prompt_tokens"']),
  accumulate: (seen, _event, data) => (isObject(data.usage) ? data.usage : seen),
  normalise: usageFromChat,
};

const RESPONSE_ENDS = new Set(['response.completed', 'response.incomplete', 'response.failed']);

/** Responses API: `response.usage` of the final `response.completed` (or `.incomplete`, `.failed`) event. */
export const responsesStreamUsage: StreamUsageRule = {
  markers: Object.freeze(['"input_tokens"']),
  accumulate(seen, event, data) {
    const type = typeof data.type === 'string' ? data.type : event;
    const response = data.response;
    return type !== undefined && RESPONSE_ENDS.has(type) && isObject(response) && isObject(response.usage) ? response.usage : seen;
  },
  normalise: usageFromResponses,
};

/** Anthropic Messages: `message_start`'s `message.usage`, then each `message_delta`'s `usage`; later counts win field by field. */
export const messagesStreamUsage: StreamUsageRule = {
  markers: Object.freeze(['"usage"']),
  accumulate(seen, event, data) {
    const type = typeof data.type === 'string' ? data.type : event;
    let usage: unknown;
    if (type === 'message_start') usage = isObject(data.message) ? data.message.usage : undefined;
    else if (type === 'message_delta') usage = data.usage;
    if (!isObject(usage)) return seen;
    const merged: Fields = { ...seen };
    for (const [field, value] of Object.entries(usage)) {
      if (typeof value === 'number') merged[field] = value; // a null in a delta does not erase a count
    }
    return merged;
  },
  normalise: usageFromMessages,
};

export class SseUsageTap implements UsageTap {
  readonly #scanner: SseEventScanner;
  readonly #rule: StreamUsageRule;
  #seen: Fields | undefined;

  constructor(rule: StreamUsageRule) {
    this.#rule = rule;
    this.#scanner = new SseEventScanner({ markers: rule.markers, onEvent: (event, data) => this.#onEvent(event, data) });
  }

  push(chunk: Buffer): void {
    this.#scanner.push(chunk);
  }

  result(): Usage | undefined {
    return this.#seen === undefined ? undefined : this.#rule.normalise(this.#seen);
  }

  #onEvent(event: string | undefined, data: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch {
      return; // not JSON (e.g. a provider's own comment-like data): not usage
    }
    if (isObject(parsed)) this.#seen = this.#rule.accumulate(this.#seen, event, parsed);
  }
}
