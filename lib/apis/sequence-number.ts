/**
 * The `sequence_number` of the last Responses API event that went by, so that the proxy's own
 * error event can carry the next one (the Vercel AI SDK rejects an error event without it).
 *
 * Each chunk is searched for `"sequence_number"` (a marker that cannot occur inside a JSON string,
 * where its quotes would be escaped) by its rarest byte; the last occurrence whose digits end
 * inside the chunk wins. An occurrence cut by a chunk boundary is read from a small join of the
 * previous chunk's last bytes and this chunk's first ones. Nothing is allocated per chunk.
 */
import { compileMarkers, findMarker } from '../sse/marker-search.js';

const MARKER = compileMarkers(Object.freeze(['"sequence_number"']))[0];
/** Room for the marker, a colon, some whitespace and a number, on each side of a boundary. */
const SIDE = 48;

const isDigit = (byte: number): boolean => byte >= 0x30 && byte <= 0x39;
const isSpace = (byte: number): boolean => byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d;

/** The number after the marker at `at`, or -1 when it is not complete within `end`. */
function numberAt(bytes: Buffer, at: number, end: number): number {
  let i = at + MARKER.bytes.length;
  while (i < end && isSpace(bytes[i])) i++;
  if (i >= end || bytes[i] !== 0x3a /* : */) return -1;
  i++;
  while (i < end && isSpace(bytes[i])) i++;
  let value = 0;
  const start = i;
  while (i < end && isDigit(bytes[i])) value = value * 10 + (bytes[i++] - 0x30);
  return i === start || i >= end ? -1 : value; // digits must be followed by something to be whole
}

/** The last complete number in `bytes[0, end)`, or -1. */
function lastNumber(bytes: Buffer, end: number): number {
  let found = -1;
  const window = end === bytes.length ? bytes : bytes.subarray(0, end);
  for (let at = findMarker(window, MARKER, 0); at !== -1; at = findMarker(window, MARKER, at + 1)) {
    const value = numberAt(window, at, end);
    if (value !== -1) found = value;
  }
  return found;
}

export class SequenceNumbers {
  #last = -1;
  /** The stream's last bytes (up to SIDE), then room for the next chunk's first ones. */
  readonly #join = Buffer.alloc(2 * SIDE);
  #carried = 0;

  /** One more than the last `sequence_number` seen; 0 when none was. */
  get next(): number {
    return this.#last + 1;
  }

  push(chunk: Buffer): void {
    const length = chunk.length;
    if (length === 0) return;
    let value = lastNumber(chunk, length);
    if (value === -1 && this.#carried > 0) {
      const head = Math.min(length, SIDE);
      chunk.copy(this.#join, this.#carried, 0, head);
      value = lastNumber(this.#join, this.#carried + head);
    }
    if (value !== -1) this.#last = value;
    this.#carry(chunk);
  }

  /** Keeps the stream's last SIDE bytes at the start of the join. */
  #carry(chunk: Buffer): void {
    const length = chunk.length;
    if (length >= SIDE) {
      chunk.copy(this.#join, 0, length - SIDE);
      this.#carried = SIDE;
      return;
    }
    const kept = Math.min(this.#carried, SIDE - length);
    this.#join.copy(this.#join, 0, this.#carried - kept, this.#carried);
    chunk.copy(this.#join, kept);
    this.#carried = kept + length;
  }
}
