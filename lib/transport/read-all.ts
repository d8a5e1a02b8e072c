/** Reads a whole (non-streamed) upstream body, up to a bound. */
import type { Readable } from 'node:stream';
import { DEFAULT_MAX_RESPONSE_BYTES } from '../defaults.js';
import { UpstreamResponseTooLargeError } from '../errors/errors.js';
import { joinChunks } from '../util/join-chunks.js';
import { tryTakeWhole } from './direct-read.js';

/**
 * Collects `body`, at once (no promise) when it had already arrived whole (see `tryTakeWhole`).
 * Once more than `maxBytes` have come it stops: the body is destroyed (which aborts the upstream
 * request and stops a decoder from inflating further) and the promise rejects with an
 * `UpstreamResponseTooLargeError` (code `upstream_response_too_large`).
 */
export function readAll(body: Readable, maxBytes = DEFAULT_MAX_RESPONSE_BYTES): Buffer | Promise<Buffer> {
  const whole = tryTakeWhole(body, maxBytes);
  if (whole !== undefined) return joinChunks(whole);
  return new Promise((resolve, reject) => {
    let chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (error: unknown, result?: Buffer): void => {
      if (settled) return;
      settled = true;
      if (error === undefined) resolve(result!);
      else reject(error);
    };
    const onData = (chunk: Buffer): void => {
      if (settled) return;
      size += chunk.length;
      if (size > maxBytes) {
        const error = new UpstreamResponseTooLargeError(maxBytes);
        chunks = []; // what was read is of no use now; let it go at once
        body.removeListener('data', onData);
        settle(error);
        body.destroy(error);
        return;
      }
      chunks.push(chunk);
    };
    body.on('data', onData);
    body.once('end', () => settle(undefined, joinChunks(chunks, size)));
    // Stays attached after a settle: the destroy above emits the error it was given.
    body.on('error', (error) => settle(error));
    body.once('close', () => {
      // A stream destroyed without an error (an abort) must still settle.
      if (!body.readableEnded) settle(new Error('upstream body closed before its end'));
    });
  });
}
