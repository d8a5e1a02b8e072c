/** What the Messages and Responses stream taps share: telling an event's type, cheaply. */

/**
 * Markers of an error event (`event: error`, or data of type `error` when a server omits the
 * `event:` line). An event whose bytes contain none of them is never decoded.
 */
export const ERROR_EVENT_MARKERS: readonly string[] = Object.freeze(['event: error', 'event:error', '"type":"error"', '"type": "error"']);

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
