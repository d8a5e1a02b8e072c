/** The seam between the proxy and whatever speaks HTTP to the upstream. */
import type { Readable } from 'node:stream';

/**
 * An abort in undici's emitter form (`aborted`, `reason`, an `abort` event), which undici takes
 * as a signal as it is. Unlike a WHATWG AbortSignal it costs next to nothing to create.
 */
export interface UpstreamAbort {
  readonly aborted: boolean;
  readonly reason: unknown;
  once(event: 'abort', listener: () => void): unknown;
  removeListener(event: 'abort', listener: () => void): unknown;
}

export interface UpstreamRequest {
  url: string;
  method: 'POST' | 'GET' | 'DELETE';
  /** Lower-case names. */
  headers: Record<string, string>;
  body?: Buffer;
  /**
   * Aborts the request. In requests the proxy makes it is created on first read (an
   * AbortController costs about 8 µs per request on Node 20), so a transport that listens on
   * `abort` instead never pays for it.
   */
  readonly signal: AbortSignal;
  /** The same abort in emitter form, when the request has one (the proxy's always do). */
  readonly abort?: UpstreamAbort;
}

export interface UpstreamResponse {
  status: number;
  /**
   * Lower-case names. `content-encoding` is gone when `body` was decoded; it stays when the
   * body could not be decoded (an unknown coding in the list), and then describes `body`.
   */
  headers: Record<string, string | string[] | undefined>;
  /** The body (decoded, unless an encoding is left in `headers`), chunk by chunk. */
  body: Readable;
  /** The `content-encoding` the transport decoded, when it did. */
  decodedFrom?: string;
}

/** Sends one request upstream and resolves when the response headers have arrived. */
export type UpstreamTransport = (request: UpstreamRequest) => Promise<UpstreamResponse>;

/** The WHATWG `fetch(url, init)` signature, as node-fetch, undici and Node's global fetch have it. */
export type FetchLike = (
  url: string,
  // `body` is a Buffer (never a bare Uint8Array), so node-fetch's own typings accept this signature.
  init: {
    method: string;
    headers: Record<string, string>;
    body?: Buffer;
    signal: AbortSignal;
    /** Always `'manual'`: a redirect is passed back as it came, so the provider's key never travels to another origin. */
    redirect: 'manual';
    /**
     * Always `false`: node-fetch then hands the bytes over as they came and the transport decodes
     * them (every layer or none); a WHATWG fetch ignores it and decodes by its own rule.
     */
    compress: false;
  },
) => Promise<FetchLikeResponse>;

export interface FetchLikeResponse {
  status: number;
  headers: { forEach(callback: (value: string, name: string) => void): void };
  /** A WHATWG ReadableStream (global fetch) or a Node Readable (node-fetch); null when empty. */
  body: unknown;
}
