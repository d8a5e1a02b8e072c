/**
 * The `sequence_number` of the last Responses API event that went by, so that the proxy's own
 * error event can carry the next one (the Vercel AI SDK rejects an error event without it).
 *
 * Each chunk is searched for `"sequence_number"` (a marker that cannot occur inside a JSON string,
 * where its quotes would be escaped) by its rarest byte; the last occurrence whose digits end
 * inside the chunk wins. Only when a chunk holds none is a number cut by the boundary looked for,
 * in a small join of the stream's last bytes and this chunk's first ones; the previous chunk is
 * kept by reference for that, so a chunk costs one search and no copy or allocation.
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
  /** The previous chunk, by reference (the proxy never rewrites a chunk it forwarded). */
  #previous: Buffer | undefined;
  /** Room for the stream's last SIDE bytes and the next chunk's first SIDE, when they are joined. */
  readonly #join = Buffer.alloc(2 * SIDE);
  /** How many of the stream's last bytes sit at the start of #join (only after chunks shorter than SIDE). */
  #carried = 0;

  /** One more than the last `sequence_number` seen; 0 when none was. */
  get next(): number {
    return this.#last + 1;
  }

  push(chunk: Buffer): void {
    const length = chunk.length;
    if (length === 0) return;
    let value = lastNumber(chunk, length);
    if (value === -1) {
      // None whole in this chunk: one may have been cut by the boundary.
      const tail = this.#tail();
      const head = Math.min(length, SIDE);
      chunk.copy(this.#join, tail, 0, head);
      value = lastNumber(this.#join, tail + head);
    }
    if (value !== -1) this.#last = value;
    if (length >= SIDE) {
      this.#previous = chunk;
      this.#carried = 0;
    } else {
      this.#carry(chunk); // tiny chunks: their bytes are gathered, so a cut number is still whole when joined
    }
  }

  /** Puts the stream's last (up to SIDE) bytes at the start of #join; returns how many. */
  #tail(): number {
    if (this.#previous === undefined) return this.#carried;
    const previous = this.#previous;
    previous.copy(this.#join, 0, previous.length - SIDE);
    this.#previous = undefined;
    this.#carried = SIDE;
    return SIDE;
  }

  /** Appends a short chunk to the stream's last bytes kept at the start of #join. */
  #carry(chunk: Buffer): void {
    const carried = this.#tail();
    const kept = Math.min(carried, SIDE - chunk.length);
    this.#join.copy(this.#join, 0, carried - kept, carried);
    chunk.copy(this.#join, kept);
    this.#carried = kept + chunk.length;
  }
}
