/** Adapts any WHATWG-style `fetch` (node-fetch, Node's global fetch, undici's fetch) to a transport. */
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { FetchLike, UpstreamTransport } from './types.js';

function toReadable(body: unknown): Readable {
  if (body == null) {
    return Readable.from([]);
  }
  if (body instanceof Readable || typeof (body as Readable).pipe === 'function') {
    return body as Readable; // node-fetch hands out a Node stream already
  }
  if (typeof (body as WebReadableStream).getReader === 'function') {
    return Readable.fromWeb(body as WebReadableStream);
  }
  throw new TypeError('fetch returned a body that is neither a Node Readable nor a ReadableStream');
}

/**
 * @example
 * import nodeFetch from 'node-fetch';
 * createLlmProxyRouter({ providers, fetch: nodeFetch });
 */
export function createFetchTransport(fetchImpl: FetchLike): UpstreamTransport {
  return async ({ url, method, headers, body, signal }) => {
    // Never follow: a redirect would carry the provider's key (and the body) wherever it points.
    const response = await fetchImpl(url, { method, headers, body, signal, redirect: 'manual' });
    const responseHeaders: Record<string, string | string[] | undefined> = {};
    response.headers.forEach((value, name) => {
      responseHeaders[name.toLowerCase()] = value;
    });
    // fetch implementations decompress: the encoding and length headers describe bytes we never see.
    if (responseHeaders['content-encoding'] !== undefined) {
      delete responseHeaders['content-encoding'];
      delete responseHeaders['content-length'];
    }
    return { status: response.status, headers: responseHeaders, body: toReadable(response.body) };
  };
}
