/**
 * Watches the SSE bytes a proxy forwards and reports the few events a caller cares about. It is fed
 * the very chunks that go to the client and never changes them. Events whose bytes contain none
 * of the caller's markers are passed over without being decoded; only the rest is turned into
 * strings and split into fields, as the WHATWG event-stream rules say (LF, CRLF or CR line ends in
 * any mix, `event:` and `data:` fields, `:` comments, a blank line ends an event).
 *
 * Memory: only the event still open at the end of a chunk is kept (copied), and only up to
 * `maxEventBytes`; a bigger event is dropped, never dispatched.
 */
import { InvalidOptionError } from '../errors/errors.js';
import { positiveInteger } from '../util/option-checks.js';
import { compileMarkers, findMarker } from './marker-search.js';
import type { CompiledMarker } from './marker-search.js';

export type SseEventListener = (event: string | undefined, data: string) => void;

export interface SseEventScannerOptions {
  /**
   * Only events whose raw bytes contain one of these strings are reported (matched as UTF-8 bytes,
   * anywhere in the event, even across chunk boundaries). At least one. A frozen array is encoded
   * once for all the scanners that share it.
   */
  markers: readonly string[];
  /**
   * Called with each reported event: its `event:` field (undefined when absent or empty) and its
   * `data:` lines joined by `\n`. Events without a `data:` line are not reported. Must not throw.
   */
  onEvent: SseEventListener;
  /** Largest event, in bytes, that is kept while it arrives in pieces. Default 1 MiB. */
  maxEventBytes?: number;
}

export const DEFAULT_MAX_SSE_EVENT_BYTES = 1024 * 1024;

const LF = 0x0a;
const CR = 0x0d;
const LINE_END = /\r\n|\r|\n/;

export class SseEventScanner {
  readonly #markers: readonly CompiledMarker[];
  readonly #onEvent: SseEventListener;
  readonly #maxEventBytes: number;
  /** Where the next marker starts in the current chunk (-1 none, -2 not searched yet). */
  readonly #hits: number[];

  // Framing state, carried across chunks.
  #atLineStart = true; // the stream starts at the start of a line
  #afterCR = false; // an LF right now would end a CRLF, not a line
  #firstEvent = true; // a BOM may only open the stream

  // The event still open at the end of the last chunk (copied; the caller's buffers are never kept).
  #pending: Buffer | undefined;
  #pendingLength = 0;
  #dropping = false; // the open event outgrew the cap: skip it to its end

  constructor(options: SseEventScannerOptions) {
    this.#markers = compileMarkers(options?.markers);
    if (typeof options.onEvent !== 'function') {
      throw new InvalidOptionError('onEvent', 'must be a function');
    }
    this.#hits = this.#markers.map(() => -2);
    this.#onEvent = options.onEvent;
    this.#maxEventBytes = positiveInteger(options.maxEventBytes, 'maxEventBytes', DEFAULT_MAX_SSE_EVENT_BYTES);
  }

  /** Bytes held for the event still open (at most `maxEventBytes`). */
  get bufferedBytes(): number {
    return this.#pendingLength;
  }

  /** Scans one chunk, calling `onEvent` for each interesting event it completes. */
  push(chunk: Buffer): void {
    const length = chunk.length;
    if (length === 0) return;
    // A loop, not `fill`: fill is a call into V8's C++ on every chunk, which cost more than the loop.
    const hits = this.#hits;
    for (let i = 0; i < hits.length; i++) hits[i] = -2;
    let pos = 0;
    let eventStart = 0;
    // Line ends are found with native indexOf; each position is searched again only once passed.
    let nextLF = -2;
    let nextCR = -2;
    while (pos < length) {
      if (this.#afterCR) {
        this.#afterCR = false;
        if (chunk[pos] === LF) {
          // The LF of a CRLF that ended an event: keep it out of the next one, which can then stay
          // in the chunk (and has the same bytes however the stream was cut).
          if (eventStart === pos && this.#pendingLength === 0) eventStart++;
          pos++;
          continue;
        }
      }
      if (nextLF !== -1 && nextLF < pos) nextLF = chunk.indexOf(LF, pos);
      if (nextCR !== -1 && nextCR < pos) nextCR = chunk.indexOf(CR, pos);
      const end = nextLF === -1 ? nextCR : nextCR === -1 ? nextLF : Math.min(nextLF, nextCR);
      if (end === -1) {
        this.#atLineStart = false; // the chunk ends inside a line
        break;
      }
      if (end === pos && this.#atLineStart) {
        this.#completeEvent(chunk, eventStart, end); // a blank line
        eventStart = end + 1;
      }
      this.#atLineStart = true;
      this.#afterCR = chunk[end] === CR;
      pos = end + 1;
    }
    if (eventStart < length) this.#keepOpenEvent(chunk, eventStart);
  }

  /** The event made of what is pending plus `chunk[start, end)` is complete. */
  #completeEvent(chunk: Buffer, start: number, end: number): void {
    if (this.#dropping) {
      this.#dropping = false;
      this.#firstEvent = false;
      return;
    }
    if (this.#pendingLength > 0) {
      if (!this.#append(chunk, start, end)) {
        this.#dropping = false; // over the cap, and already over
        this.#firstEvent = false;
        return;
      }
      const event = this.#pending!.subarray(0, this.#pendingLength);
      this.#pendingLength = 0;
      if (this.#pending!.length > 16 * 1024) this.#pending = undefined; // do not hold a big buffer for the stream's life
      if (containsAny(event, this.#markers)) this.#dispatch(event, 0, event.length);
    } else if (end > start && end - start <= this.#maxEventBytes && this.#inChunk(chunk, start, end)) {
      this.#dispatch(chunk, start, end); // the cap holds here too, so chunking never changes what is reported
    }
    this.#firstEvent = false;
  }

  /** True when one of the markers lies wholly inside `chunk[start, end)`. */
  #inChunk(chunk: Buffer, start: number, end: number): boolean {
    const markers = this.#markers;
    const hits = this.#hits;
    for (let i = 0; i < markers.length; i++) {
      let hit = hits[i];
      if (hit !== -1 && hit < start) {
        hit = findMarker(chunk, markers[i], start);
        hits[i] = hit;
      }
      if (hit !== -1 && hit + markers[i].bytes.length <= end) return true;
    }
    return false;
  }

  #keepOpenEvent(chunk: Buffer, start: number): void {
    if (!this.#dropping) this.#append(chunk, start, chunk.length);
  }

  /** Copies `chunk[start, end)` after the pending bytes; false (and drop mode) past the cap. */
  #append(chunk: Buffer, start: number, end: number): boolean {
    const needed = this.#pendingLength + (end - start);
    if (needed > this.#maxEventBytes) {
      this.#pendingLength = 0;
      this.#dropping = true;
      return false;
    }
    let pending = this.#pending;
    if (!pending || pending.length < needed) {
      const grown = Buffer.allocUnsafe(Math.min(this.#maxEventBytes, Math.max(needed * 2, 1024)));
      if (pending && this.#pendingLength > 0) pending.copy(grown, 0, 0, this.#pendingLength);
      pending = grown;
      this.#pending = grown;
    }
    chunk.copy(pending, this.#pendingLength, start, end);
    this.#pendingLength = needed;
    return true;
  }

  /** Decodes one event and reports it when it has data. */
  #dispatch(bytes: Buffer, start: number, end: number): void {
    let text = bytes.toString('utf8', start, end);
    if (this.#firstEvent && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    let type: string | undefined;
    let data: string | undefined;
    for (const line of text.split(LINE_END)) {
      if (line.length === 0 || line.charCodeAt(0) === 0x3a /* : comment */) continue;
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      let value = colon === -1 ? '' : line.slice(colon + 1);
      if (value.charCodeAt(0) === 0x20) value = value.slice(1);
      if (field === 'data') data = data === undefined ? value : `${data}\n${value}`;
      else if (field === 'event') type = value === '' ? undefined : value;
    }
    if (data !== undefined) this.#onEvent(type, data);
  }
}

function containsAny(bytes: Buffer, markers: readonly CompiledMarker[]): boolean {
  for (const marker of markers) {
    if (findMarker(bytes, marker, 0) !== -1) return true;
  }
  return false;
}
