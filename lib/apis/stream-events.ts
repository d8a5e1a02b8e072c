/**
 * What the Messages and Responses stream taps share: noticing an upstream's failure event cheaply.
 * A marker is searched for in each chunk, and only an event holding one is decoded. The markers
 * are the `event:` lines the APIs always send (Anthropic's and OpenAI's streams name every
 * event); each marker costs a search per chunk, so there are as few as will do.
 */
import { SseEventScanner } from '../sse/event-scanner.js';

/** An event's type: its `event:` field, else the `type` of its JSON data (parsed only then). */
export function eventType(event: string | undefined, data: string): string | undefined {
  if (event !== undefined) return event;
  try {
    const type = (JSON.parse(data) as { type?: unknown } | null)?.type;
    return typeof type === 'string' ? type : undefined;
  } catch {
    return undefined;
  }
}

/** Watches a stream for events of the `failures` types, found by `markers` (frozen: encoded once). */
export class FailureWatch {
  failed = false;
  readonly #scanner: SseEventScanner;

  constructor(markers: readonly string[], failures: readonly string[]) {
    this.#scanner = new SseEventScanner({
      markers,
      onEvent: (event, data) => {
        const type = eventType(event, data);
        if (type !== undefined && failures.includes(type)) this.failed = true;
      },
    });
  }

  push(chunk: Buffer): void {
    if (!this.failed) this.#scanner.push(chunk);
  }
}
