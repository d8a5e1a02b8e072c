/** Adapts any WHATWG-style `fetch` (node-fetch, Node's global fetch, undici's fetch) to a transport. */
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import zlib from 'node:zlib';
import { contentCodings, decodeResponse } from './decode.js';
import type { FetchLike, UpstreamTransport } from './types.js';

type Headers = Record<string, string | string[] | undefined>;

const isNodeStream = (body: unknown): body is Readable => body instanceof Readable || typeof (body as Readable | null)?.pipe === 'function';

function toReadable(body: unknown): Readable {
  if (body == null) {
    return Readable.from([]);
  }
  if (isNodeStream(body)) {
    return body;
  }
  if (typeof (body as WebReadableStream).getReader === 'function') {
    return Readable.fromWeb(body as WebReadableStream);
  }
  throw new TypeError('fetch returned a body that is neither a Node Readable nor a ReadableStream');
}

/** The codings a WHATWG fetch (undici's, Node's global) decodes; with any other in the list it decodes none. */
const WHATWG_DECODED = new Set(['gzip', 'x-gzip', 'deflate', 'br', ...(typeof (zlib as { createZstdDecompress?: unknown }).createZstdDecompress === 'function' ? ['zstd'] : [])]);
const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);

/** Whether a WHATWG fetch decoded this answer, by the rule it follows (the Fetch standard's, as undici has it). */
function whatwgDecoded(encoding: string | string[], status: number): boolean {
  if (NULL_BODY_STATUS.has(status)) return false;
  // An empty entry ("gzip,") is an unknown coding to undici, so it is one here too.
  const raw = (Array.isArray(encoding) ? encoding.join(',') : encoding).split(',');
  return raw.length === contentCodings(encoding).length && raw.every((coding) => WHATWG_DECODED.has(coding.trim().toLowerCase()));
}

/**
 * @example
 * import nodeFetch from 'node-fetch';
 * createLlmProxyRouter({ providers, fetch: nodeFetch });
 */
export function createFetchTransport(fetchImpl: FetchLike): UpstreamTransport {
  return async ({ url, method, headers, body, signal }) => {
    // Never follow: a redirect would carry the provider's key (and the body) wherever it points.
    // `compress: false` (node-fetch's option; others ignore it) leaves decoding to decodeBody.
    const response = await fetchImpl(url, { method, headers, body, signal, redirect: 'manual', compress: false });
    const responseHeaders: Headers = {};
    response.headers.forEach((value, name) => {
      responseHeaders[name.toLowerCase()] = value;
    });
    const encoding = responseHeaders['content-encoding'];
    if (isNodeStream(response.body)) {
      // node-fetch: the bytes as they came, decoded here all layers or none, as the undici transport does.
      return decodeResponse({ status: response.status, headers: responseHeaders, body: response.body });
    }
    // A WHATWG fetch decodes every layer it knows or none: the header goes only when it decoded.
    if (encoding !== undefined && whatwgDecoded(encoding, response.status)) {
      delete responseHeaders['content-encoding'];
      delete responseHeaders['content-length'];
      const decodedFrom = Array.isArray(encoding) ? encoding.join(', ') : encoding;
      return { status: response.status, headers: responseHeaders, body: toReadable(response.body), decodedFrom };
    }
    return { status: response.status, headers: responseHeaders, body: toReadable(response.body) };
  };
}
