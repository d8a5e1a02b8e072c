/** Decodes a compressed upstream body so the client never sees a stale `content-encoding`. */
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream';
import zlib from 'node:zlib';

type Headers = Record<string, string | string[] | undefined>;

function decoderFor(encoding: string): zlib.Gunzip | zlib.Unzip | zlib.BrotliDecompress | undefined {
  // SYNC_FLUSH hands out every byte decoded so far, so a compressed stream stays unbuffered.
  switch (encoding) {
    case 'gzip':
    case 'x-gzip':
    case 'deflate':
      return zlib.createUnzip({ flush: zlib.constants.Z_SYNC_FLUSH, finishFlush: zlib.constants.Z_SYNC_FLUSH });
    case 'br':
      return zlib.createBrotliDecompress({
        flush: zlib.constants.BROTLI_OPERATION_FLUSH,
        finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH,
      });
    default:
      return undefined;
  }
}

/**
 * Returns the body decoded, removing `content-encoding` and `content-length` from `headers`
 * (in place) when it decoded. Unknown encodings are left as they are, header included.
 */
export function decodeBody(headers: Headers, body: Readable): Readable {
  const encoding = headers['content-encoding'];
  if (typeof encoding !== 'string') {
    return body;
  }
  const decoder = decoderFor(encoding.trim().toLowerCase());
  if (!decoder) {
    return body;
  }
  delete headers['content-encoding'];
  delete headers['content-length'];
  // pipeline destroys both sides on error or early close, so an abort reaches the upstream.
  pipeline(body, decoder, () => {});
  return decoder;
}
