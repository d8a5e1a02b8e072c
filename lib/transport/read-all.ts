/** Reads a whole (non-streamed) upstream body. */
import type { Readable } from 'node:stream';

export function readAll(body: Readable): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    body.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
    });
    body.once('end', () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size)));
    body.once('error', reject);
    body.once('close', () => {
      // A stream destroyed without an error (an abort) must still settle.
      if (!body.readableEnded) reject(new Error('upstream body closed before its end'));
    });
  });
}
