/**
 * A way for a response body to hand its chunks straight to one consumer. A Node Readable costs a
 * push, an emitted 'data' event and a next-tick read() per chunk, and a stream's worth of state
 * changes at its end; the SSE pipe forwards each chunk as it comes and needs none of that.
 * Bodies that support it (the default transport's) still are Readables for every other reader.
 */

/** Where a directly read body delivers its chunks. */
export interface ChunkSink {
  /** One chunk; return false to pause the upstream until `DirectRead.resume()`. */
  data(chunk: Buffer): boolean;
  /** The body is complete. */
  end(): void;
  /** The body failed (called on a later tick, as a Readable's 'error' would be). */
  error(error: unknown): void;
}

export interface DirectRead {
  /** Reads on after `data()` returned false. */
  resume(): void;
}

/** The method of a body that can be read directly. */
export const readDirectly: unique symbol = Symbol('readDirectly');

export interface DirectlyReadable {
  /**
   * Sends the body's chunks to `sink` from now on, the ones already received first (synchronously).
   * Returns undefined when the body is already being read another way: read it as a Readable then.
   */
  [readDirectly](sink: ChunkSink): DirectRead | undefined;
}

/** Reads `body` directly when it supports it; undefined means: use it as a Readable. */
export function tryReadDirectly(body: object, sink: ChunkSink): DirectRead | undefined {
  const read = (body as Partial<DirectlyReadable>)[readDirectly];
  return typeof read === 'function' ? read.call(body, sink) : undefined;
}

/** The method of a body that can hand over all its chunks at once, once they have all arrived. */
export const takeWhole: unique symbol = Symbol('takeWhole');

export interface WhollyTakeable {
  /**
   * The body's chunks when the whole body has arrived, is at most `maxBytes`, and nobody has read
   * it or listens for its data or end yet; the body is then used up (a later reader sees it end at
   * once). Undefined otherwise.
   */
  [takeWhole](maxBytes: number): Buffer[] | undefined;
}

/**
 * The chunks of `body` when it supports taking them whole and has arrived whole within `maxBytes`;
 * undefined means: read it as a Readable. A small answer usually comes in the same socket read as
 * its headers: taking it saves a Readable's flowing, its 'data' and 'end' events, and the ticks
 * between them, on the path from the upstream's answer to the client's.
 */
export function tryTakeWhole(body: object, maxBytes: number): Buffer[] | undefined {
  const take = (body as Partial<WhollyTakeable>)[takeWhole];
  return typeof take === 'function' ? take.call(body, maxBytes) : undefined;
}
