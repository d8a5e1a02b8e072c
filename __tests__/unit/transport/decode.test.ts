/** `decodeBody`: every layer of a content-encoding list decoded, last applied first, or none and the header kept. */
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { canDecode, contentCodings, decodeBody } from '../../../lib/transport/decode.js';
import { readAll } from '../../../lib/transport/read-all.js';

const PLAIN = Buffer.from('{"hello":"world"}');

describe('contentCodings and canDecode', () => {
  it.each<[string | string[], string[], boolean]>([
    ['gzip', ['gzip'], true],
    [' GZIP , br ', ['gzip', 'br'], true],
    [['gzip', 'x-gzip'], ['gzip', 'x-gzip'], true],
    ['identity', ['identity'], true],
    ['deflate,,br', ['deflate', 'br'], true],
    ['zstd', ['zstd'], false],
    ['gzip, x-custom', ['gzip', 'x-custom'], false],
    ['gzip, gzip, gzip, gzip, gzip', Array(5).fill('gzip'), true],
    ['gzip, gzip, gzip, gzip, gzip, gzip', Array(6).fill('gzip'), false],
  ])('%j is %j (decodable: %s)', (value, codings, decodable) => {
    expect(contentCodings(value)).toEqual(codings);
    expect(canDecode(value)).toBe(decodable);
  });
});

describe('decodeBody', () => {
  it('undoes stacked layers in reverse order of the list and drops the encoding and length headers', async () => {
    const sent = zlib.gzipSync(zlib.brotliCompressSync(zlib.deflateSync(PLAIN)));
    const headers: Record<string, string> = { 'content-encoding': 'deflate, br, gzip', 'content-length': String(sent.length), 'content-type': 'application/json' };
    expect(await readAll(decodeBody(headers, Readable.from([sent])))).toEqual(PLAIN);
    expect(headers).toEqual({ 'content-type': 'application/json' });
  });

  it.each(['x-custom', 'zstd', 'gzip, zstd', 'gzip, gzip, gzip, gzip, gzip, gzip'])('leaves %s as it came: the same body, the header kept', (encoding) => {
    const body = Readable.from([PLAIN]);
    const headers = { 'content-encoding': encoding, 'content-length': String(PLAIN.length) };
    expect(decodeBody(headers, body)).toBe(body);
    expect(headers).toEqual({ 'content-encoding': encoding, 'content-length': String(PLAIN.length) });
  });

  it('treats identity as a layer that changes nothing', async () => {
    const body = Readable.from([PLAIN]);
    const headers: Record<string, string> = { 'content-encoding': 'identity' };
    expect(decodeBody(headers, body)).toBe(body);
    expect(headers).toEqual({});
    const packed: Record<string, string> = { 'content-encoding': 'gzip, identity' };
    expect(await readAll(decodeBody(packed, Readable.from([zlib.gzipSync(PLAIN)])))).toEqual(PLAIN);
  });

  it('destroys the upstream body when the decoded side is destroyed (the request is aborted)', async () => {
    const source = new Readable({ read() {} });
    source.push(zlib.gzipSync(PLAIN).subarray(0, 10));
    const decoded = decodeBody({ 'content-encoding': 'gzip, gzip' }, source);
    decoded.destroy(new Error('client left'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(source.destroyed).toBe(true);
  });
});
