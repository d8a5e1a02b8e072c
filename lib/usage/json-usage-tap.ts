/**
 * Reads the top-level `usage` object of a JSON answer while its chunks are forwarded, in bounded
 * memory whatever the body size: the first `headBytes` and the last `tailBytes` of the body (plus
 * the newest chunk, referenced until the next one arrives; the caller must not rewrite a chunk
 * after pushing it, which a proxy forwarding it never does). At the end it looks for the last
 * top-level `"usage":` key in the tail (depth counted back from the end), then in the head (depth
 * counted from the start), and parses only that object. A body that fits in head + tail is
 * searched whole, back from its end.
 *
 * Providers put `usage` first or last in practice; one that sits only in the middle of a body
 * larger than head + tail is not found (the answer reads as having no usage). */
import { positiveInteger } from '../util/option-checks.js';
import { keyPositions, lastTopLevelKeyFromStart, objectValueAt, topLevelObjectFromEnd } from './json-key-scan.js';
import type { Usage, UsageNormaliser, UsageTap } from './types.js';

export interface JsonUsageTapOptions {
  /** Bytes kept from the start of the body. Default 16 KiB. */
  headBytes?: number;
  /** Bytes kept from the end of the body. Default 16 KiB (room for a Responses answer's metadata after its usage). */
  tailBytes?: number;
}

const USAGE_KEY = Buffer.from('"usage"');
const USAGE = Buffer.from('usage');

export class JsonUsageTap implements UsageTap {
  readonly #normalise: UsageNormaliser;
  readonly #headBytes: number;
  readonly #tailBytes: number;

  // The head: the first chunk is only referenced while it is the only one (most JSON answers
  // arrive in one chunk and are then never copied); from the second chunk on, bytes are copied.
  #first: Buffer | undefined;
  #head: Buffer | undefined;
  #headLength = 0;
  #pastHead = 0; // body bytes after the head
  // The tail is the ring (older bytes, copied) followed by the newest chunk, held by reference
  // until the next one arrives: a chunk at least tailBytes long makes everything before it moot,
  // so the bytes of a large body are not copied at all.
  #ring: Buffer | undefined;
  #ringFill = 0;
  #ringPos = 0;
  #last: Buffer | undefined;

  constructor(normalise: UsageNormaliser, options: JsonUsageTapOptions = {}) {
    this.#normalise = normalise;
    this.#headBytes = positiveInteger(options.headBytes, 'headBytes', 16 * 1024);
    this.#tailBytes = positiveInteger(options.tailBytes, 'tailBytes', 16 * 1024);
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this.#headLength === 0 && this.#first === undefined && chunk.length <= this.#headBytes) {
      this.#first = chunk;
      return;
    }
    if (this.#first !== undefined) {
      const first = this.#first;
      this.#first = undefined;
      this.#copyToHead(first, first.length);
    }
    let rest = chunk;
    if (this.#headLength < this.#headBytes) {
      const n = Math.min(this.#headBytes - this.#headLength, chunk.length);
      this.#copyToHead(chunk, n);
      if (n === chunk.length) return;
      rest = chunk.subarray(n);
    }
    this.#pastHead += rest.length;
    if (this.#last !== undefined && rest.length < this.#tailBytes) this.#keep(this.#last);
    this.#last = rest;
  }

  result(): Usage | undefined {
    const head = this.#first ?? (this.#head === undefined ? Buffer.alloc(0) : this.#head.subarray(0, this.#headLength));
    let object: Buffer | undefined;
    if (this.#pastHead === 0) {
      object = topLevelObjectFromEnd(head, USAGE);
    } else if (this.#pastHead <= this.#tailBytes) {
      object = topLevelObjectFromEnd(Buffer.concat([head, this.#tail()]), USAGE);
    } else {
      object = topLevelObjectFromEnd(this.#tail(), USAGE);
      if (object === undefined) {
        const key = lastTopLevelKeyFromStart(head, keyPositions(head, USAGE_KEY));
        object = key === -1 ? undefined : objectValueAt(head, key, USAGE_KEY.length);
      }
    }
    if (object === undefined) return undefined;
    try {
      return this.#normalise(JSON.parse(object.toString('utf8')));
    } catch {
      return undefined;
    }
  }

  #copyToHead(chunk: Buffer, n: number): void {
    const needed = this.#headLength + n;
    let head = this.#head;
    if (head === undefined || head.length < needed) {
      const grown = Buffer.allocUnsafe(Math.min(this.#headBytes, Math.max(needed, 2 * (head?.length ?? 0), 1024)));
      if (head !== undefined) head.copy(grown, 0, 0, this.#headLength);
      head = grown;
      this.#head = grown;
    }
    chunk.copy(head, this.#headLength, 0, n);
    this.#headLength = needed;
  }

  /** Copies the end of `bytes` into the ring. */
  #keep(bytes: Buffer): void {
    const size = this.#tailBytes;
    const ring = (this.#ring ??= Buffer.allocUnsafe(size));
    if (bytes.length >= size) {
      bytes.copy(ring, 0, bytes.length - size);
      this.#ringPos = 0;
      this.#ringFill = size;
      return;
    }
    const first = Math.min(bytes.length, size - this.#ringPos);
    bytes.copy(ring, this.#ringPos, 0, first);
    if (first < bytes.length) bytes.copy(ring, 0, first);
    this.#ringPos = (this.#ringPos + bytes.length) % size;
    this.#ringFill = Math.min(size, this.#ringFill + bytes.length);
  }

  /** The last min(tailBytes, bytes past the head) bytes of the body, in order. */
  #tail(): Buffer {
    const last = this.#last;
    if (last !== undefined && last.length >= this.#tailBytes) return last.subarray(last.length - this.#tailBytes);
    const parts: Buffer[] = [];
    const ring = this.#ring;
    if (ring !== undefined && this.#ringFill > 0) {
      if (this.#ringFill < ring.length) parts.push(ring.subarray(0, this.#ringFill));
      else parts.push(ring.subarray(this.#ringPos), ring.subarray(0, this.#ringPos));
    }
    if (last !== undefined) parts.push(last);
    const joined = Buffer.concat(parts);
    return joined.length > this.#tailBytes ? joined.subarray(joined.length - this.#tailBytes) : joined;
  }
}
