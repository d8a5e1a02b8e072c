/**
 * Reads the start of a body: all of it when it ends within `limit` bytes, else the chunks read so
 * far with the body paused and left for the caller to read on. Small answers are thereby whole
 * before the client sees a byte (a failure can still become a clean 502 or move elsewhere), while
 * large ones are never held in memory.
 */
import type { Readable } from 'node:stream';
import { joinChunks } from '../util/join-chunks.js';
import { tryTakeWhole } from './direct-read.js';

export type BodyHead = { complete: true; bytes: Buffer } | { complete: false; head: Buffer[] };

/** The body's head, at once (no promise) when the body had already arrived whole (see `tryTakeWhole`). */
export function readHead(body: Readable, limit: number): BodyHead | Promise<BodyHead> {
  const whole = tryTakeWhole(body, limit);
  if (whole !== undefined) return { complete: true, bytes: joinChunks(whole) };
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = (): void => {
      body.removeListener('data', onData);
      body.removeListener('end', onEnd);
      body.removeListener('error', onError);
      body.removeListener('close', onClose);
    };
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      size += chunk.length;
      if (size > limit) {
        body.pause();
        stop();
        resolve({ complete: false, head: chunks });
      }
    };
    const onEnd = (): void => {
      stop();
      resolve({ complete: true, bytes: joinChunks(chunks, size) });
    };
    const onError = (error: unknown): void => {
      stop();
      reject(error);
    };
    // A stream destroyed without an error (an abort) must still settle.
    const onClose = (): void => onError(new Error('upstream body closed before its end'));
    body.on('data', onData);
    body.once('end', onEnd);
    body.once('error', onError);
    body.once('close', onClose);
  });
}
