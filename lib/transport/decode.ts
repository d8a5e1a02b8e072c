/**
 * Decodes a compressed upstream body, every layer or none: the client gets either the decoded
 * bytes without `content-encoding`, or the bytes as they came with the header that describes them.
 */
import type { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream';
import zlib from 'node:zlib';

type Headers = Record<string, string | string[] | undefined>;

/** As many layers as undici's fetch accepts; a longer list is passed through, not decoded. */
const MAX_LAYERS = 5;

/** The codings of a `content-encoding` value, in the order they were applied. */
export function contentCodings(value: string | string[]): string[] {
  const joined = Array.isArray(value) ? value.join(',') : value;
  return joined
    .split(',')
    .map((coding) => coding.trim().toLowerCase())
    .filter((coding) => coding !== '');
}

function decoderFor(coding: string): Transform | null | undefined {
  // SYNC_FLUSH hands out every byte decoded so far, so a compressed stream stays unbuffered.
  switch (coding) {
    case 'gzip':
    case 'x-gzip':
    case 'deflate':
      return zlib.createUnzip({ flush: zlib.constants.Z_SYNC_FLUSH, finishFlush: zlib.constants.Z_SYNC_FLUSH });
    case 'br':
      return zlib.createBrotliDecompress({
        flush: zlib.constants.BROTLI_OPERATION_FLUSH,
        finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH,
      });
    case 'identity':
      return null; // a layer that changes nothing
    default:
      return undefined; // zstd (no zlib support on Node 20) and anything unknown
  }
}

const KNOWN = new Set(['gzip', 'x-gzip', 'deflate', 'br', 'identity']);

/** True when decodeBody would decode every layer of `value`. */
export function canDecode(value: string | string[]): boolean {
  const codings = contentCodings(value);
  return codings.length <= MAX_LAYERS && codings.every((coding) => KNOWN.has(coding));
}

/**
 * Returns the body decoded, removing `content-encoding` and `content-length` from `headers`
 * (in place) when it decoded. Layers are undone last first. A list with any coding it cannot
 * decode is left as it is, header included, so the bytes are never mislabelled.
 */
export function decodeBody(headers: Headers, body: Readable): Readable {
  const encoding = headers['content-encoding'];
  if (encoding === undefined || !canDecode(encoding)) {
    return body;
  }
  delete headers['content-encoding'];
  delete headers['content-length'];
  const decoders: Transform[] = [];
  for (const coding of contentCodings(encoding).reverse()) {
    const decoder = decoderFor(coding);
    if (decoder) decoders.push(decoder);
  }
  if (decoders.length === 0) {
    return body;
  }
  // pipeline destroys every stage on error or early close, so an abort reaches the upstream.
  pipeline([body, ...decoders], () => {});
  return decoders[decoders.length - 1];
}

/** Decodes `response` in place (see `decodeBody`), noting the encoding it undid in `decodedFrom`. */
export function decodeResponse<T extends { headers: Headers; body: Readable; decodedFrom?: string }>(response: T): T {
  const encoding = response.headers['content-encoding'];
  const body = decodeBody(response.headers, response.body);
  if (body !== response.body) {
    response.body = body;
    response.decodedFrom = Array.isArray(encoding) ? encoding.join(', ') : encoding;
  }
  return response;
}
