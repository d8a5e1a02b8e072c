/** `readAll`: whole bodies up to a bound; past it, reading stops, the body is destroyed and a coded error rejects. */
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { classifyError } from '../../../lib/errors/classify.js';
import { decodeBody } from '../../../lib/transport/decode.js';
import { DEFAULT_MAX_RESPONSE_BYTES } from '../../../lib/defaults.js';
import { readAll } from '../../../lib/transport/read-all.js';

/** A source that hands out `piece` for as long as it is read, counting what it handed out. */
function endless(piece: Buffer) {
  const state = { given: 0 };
  const body = new Readable({
    read() {
      state.given += piece.length;
      this.push(piece);
    },
  });
  return { body, state };
}

/** Gzip of `total` zero bytes, made a megabyte at a time (the bomb's weight, not its payload, is held). */
async function gzipBomb(total: number): Promise<Buffer> {
  const gzip = zlib.createGzip({ level: 9 });
  const out: Buffer[] = [];
  gzip.on('data', (chunk: Buffer) => out.push(chunk));
  const done = new Promise((resolve) => gzip.once('end', resolve));
  const zeros = Buffer.alloc(1024 * 1024);
  for (let written = 0; written < total; written += zeros.length) {
    if (!gzip.write(zeros)) await new Promise((resolve) => gzip.once('drain', resolve));
  }
  gzip.end();
  await done;
  return Buffer.concat(out);
}

describe('readAll', () => {
  it('resolves with every byte of a body up to the bound, the bound included', async () => {
    const parts = [Buffer.from('ab'), Buffer.from('cd'), Buffer.from('e')];
    await expect(readAll(Readable.from(parts), 5)).resolves.toEqual(Buffer.from('abcde'));
    await expect(readAll(Readable.from([Buffer.from('one')]))).resolves.toEqual(Buffer.from('one'));
  });

  it('defaults to 64 MB', () => {
    expect(DEFAULT_MAX_RESPONSE_BYTES).toBe(64 * 1024 * 1024);
  });

  it('stops an endless body once past the bound: destroyed, rejected with upstream_response_too_large', async () => {
    const { body, state } = endless(Buffer.alloc(16 * 1024, 'x'));
    const error = await Promise.resolve(readAll(body, 1024 * 1024)).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'UpstreamResponseTooLargeError', code: 'upstream_response_too_large', status: 502, maxBytes: 1024 * 1024 });
    expect(classifyError(error)).toMatchObject({ kind: 'response_too_large', status: 502, code: 'upstream_response_too_large' });
    expect(body.destroyed).toBe(true);
    const given = state.given;
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(state.given).toBe(given); // nothing read after the stop
    expect(given).toBeLessThan(1024 * 1024 + 64 * 1024 * 2);
  });

  it('stops the decoder of a compressed body: the bomb is not inflated past the bound', async () => {
    const bomb = await gzipBomb(256 * 1024 * 1024);
    const pieces: Buffer[] = [];
    for (let at = 0; at < bomb.length; at += 16 * 1024) pieces.push(bomb.subarray(at, at + 16 * 1024));
    const source = Readable.from(pieces);
    const headers: Record<string, string> = { 'content-encoding': 'gzip' };
    const decoded = decodeBody(headers, source) as zlib.Gunzip;
    const error = await Promise.resolve(readAll(decoded, 4 * 1024 * 1024)).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'upstream_response_too_large' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(decoded.destroyed).toBe(true);
    expect(source.destroyed).toBe(true); // the upstream side is closed too (for a real body: the request aborted)
    // The decoder took a few compressed pieces, not the 255 kB bomb whole: it stopped with the reader.
    expect(decoded.bytesWritten).toBeLessThan(bomb.length / 4);
  });

  it('rejects when the body fails or is destroyed before its end', async () => {
    const failing = new Readable({ read() {} });
    const failed = readAll(failing);
    failing.destroy(new Error('reset'));
    await expect(failed).rejects.toThrow('reset');
    const aborted = new Readable({ read() {} });
    const closed = readAll(aborted);
    aborted.destroy();
    await expect(closed).rejects.toThrow('closed before its end');
  });
});
