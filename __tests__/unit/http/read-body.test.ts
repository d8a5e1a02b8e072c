/** `readJsonBody` on real `node:http` requests: limits, content types, bad JSON, host-parsed bodies. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readJsonBody } from '../../../lib/http/read-body.js';
import type { JsonBody } from '../../../lib/http/read-body.js';

type Prepare = (req: http.IncomingMessage & { body?: unknown; _body?: boolean }) => void;
type Outcome = { ok: JsonBody } | { error: { name?: string; status?: number; code?: string; body?: { error: Record<string, unknown> } } };

let server: http.Server;
let url: string;
let prepare: Prepare = () => undefined;
let limit = 64;
let outcomes: Promise<Outcome>[] = [];
/** Whether the request had emitted 'end' when readJsonBody resolved, per request. */
let endedAtResolve: boolean[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    prepare(req);
    const outcome = readJsonBody(req, limit).then(
      (ok): Outcome => {
        endedAtResolve.push(req.readableEnded);
        return { ok };
      },
      (error): Outcome => ({ error }),
    );
    outcomes.push(outcome);
    void outcome.then(() => res.end('done'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  prepare = () => undefined;
  limit = 64;
  outcomes = [];
  endedAtResolve = [];
});

/** Sends `chunks` (chunked when no content-length is given) and returns what readJsonBody settled with. */
async function send(chunks: (string | Buffer)[], headers: Record<string, string | undefined> = { 'content-type': 'application/json' }): Promise<Outcome> {
  const clean = Object.fromEntries(Object.entries(headers).filter(([, v]) => v !== undefined)) as Record<string, string>;
  await new Promise<void>((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers: clean }, (res) => {
      res.resume();
      res.on('end', resolve);
    });
    req.on('error', reject);
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
  return outcomes[0];
}

const sized = (text: string) => ({ 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
const errorCode = (outcome: Outcome) => ('error' in outcome ? [outcome.error.status, outcome.error.body?.error.code, outcome.error.body?.error.type] : ['ok']);

describe('readJsonBody', () => {
  it('returns the raw text and the parsed object', async () => {
    const text = '{ "model": "m", "n": 1.0 }';
    expect(await send([text], sized(text))).toEqual({ ok: { bytes: Buffer.from(text), raw: text, parsed: { model: 'm', n: 1 } } });
  });

  it('assembles a chunked body', async () => {
    const text = '{"model":"m","x":[1,2]}';
    expect(await send(['{"model":', '"m",', '"x":[1,2]}'])).toEqual({ ok: { bytes: Buffer.from(text), raw: text, parsed: { model: 'm', x: [1, 2] } } });
  });

  it("resolves with a declared length's last byte, before the request's 'end'; a chunked body at its 'end'", async () => {
    const text = '{"model":"m"}';
    expect(await send([text], sized(text))).toMatchObject({ ok: { raw: text } });
    expect(await send(['{"model":', '"m"}'])).toMatchObject({ ok: { raw: text } });
    expect(endedAtResolve).toEqual([false, true]);
  });

  it('waits for a body that comes after the headers', async () => {
    const text = '{"model":"late"}';
    const req = http.request(url, { method: 'POST', headers: sized(text) });
    req.flushHeaders();
    while (outcomes.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    await new Promise((resolve) => setTimeout(resolve, 30));
    req.end(text);
    expect(await outcomes[0]).toMatchObject({ ok: { raw: text, parsed: { model: 'late' } } });
  });

  it('reads alongside a host listener that already set the request flowing', async () => {
    const text = '{"model":"m"}';
    const seen: Buffer[] = [];
    prepare = (req) => {
      req.on('data', (chunk: Buffer) => seen.push(chunk));
    };
    expect(await send([text], sized(text))).toMatchObject({ ok: { raw: text } });
    expect(Buffer.concat(seen).toString()).toBe(text);
  });

  it.each([['application/json; charset=utf-8'], ['application/vnd.api+json'], ['APPLICATION/JSON'], [undefined]])('accepts content-type %p', async (type) => {
    expect(await send(['{"a":1}'], { 'content-type': type })).toMatchObject({ ok: { parsed: { a: 1 } } });
  });

  it.each([['text/plain'], ['application/x-www-form-urlencoded'], ['application/jsonp']])('refuses content-type %p with 415', async (type) => {
    expect(errorCode(await send(['{"a":1}'], { 'content-type': type }))).toEqual([415, 'unsupported_media_type', 'invalid_request_error']);
  });

  it.each([
    ['malformed JSON', '{"model":', 'invalid_json'],
    ['an empty body', '', 'invalid_json'],
    ['an array', '[{"model":"m"}]', 'invalid_body'],
    ['a number', '42', 'invalid_body'],
    ['null', 'null', 'invalid_body'],
    ['a string', '"model"', 'invalid_body'],
  ])('answers 400 for %s', async (_name, text, code) => {
    expect(errorCode(await send([text], sized(text)))).toEqual([400, code, 'invalid_request_error']);
  });

  it('answers 400 for bytes that are not UTF-8', async () => {
    const bytes = Buffer.concat([Buffer.from('{"model":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
    expect(errorCode(await send([bytes]))).toEqual([400, 'invalid_encoding', 'invalid_request_error']);
  });

  it('accepts a body of exactly the limit', async () => {
    const text = `{"model":"${'x'.repeat(limit - 12)}"}`;
    expect(Buffer.byteLength(text)).toBe(limit);
    expect(await send([text], sized(text))).toMatchObject({ ok: { raw: text } });
  });

  it('answers 413 at once when content-length is over the limit', async () => {
    const text = `{"model":"${'x'.repeat(limit)}"}`;
    expect(errorCode(await send([text], sized(text)))).toEqual([413, 'request_too_large', 'invalid_request_error']);
  });

  it('answers 413 when a chunked body grows over the limit', async () => {
    const chunks = ['{"model":"', 'x'.repeat(40), 'x'.repeat(40), '"}'];
    expect(errorCode(await send(chunks))).toEqual([413, 'request_too_large', 'invalid_request_error']);
  });

  it('takes an object the host parsed (express.json), serialised once, and flags it', async () => {
    const parsed = { model: 'host-parsed', n: 1 };
    prepare = (req) => {
      req.resume();
      req._body = true;
      req.body = parsed;
    };
    const outcome = await send(['ignored'], { 'content-type': 'application/json' });
    const raw = '{"model":"host-parsed","n":1}';
    expect(outcome).toEqual({ ok: { bytes: Buffer.from(raw), raw, parsed, modelSpan: undefined, hostParsed: true } });
    expect('ok' in outcome && outcome.ok.parsed).toBe(parsed); // the host's object, not a re-parse
  });

  it.each<[string, unknown]>([
    ['an object (express.json)', { model: 'm', pad: 'x'.repeat(64) }],
    ['a Buffer (express.raw)', Buffer.from(`{"model":"m","pad":"${'x'.repeat(64)}"}`)],
    ['a string (express.text)', `{"model":"m","pad":"${'x'.repeat(64)}"}`],
  ])('holds %s the host read to the limit', async (_name, body) => {
    prepare = (req) => {
      req.resume();
      req._body = true;
      req.body = body;
    };
    expect(errorCode(await send(['x']))).toEqual([413, 'request_too_large', 'invalid_request_error']);
  });

  it('answers 400 for a host-parsed object that cannot be serialised (a cycle)', async () => {
    const cyclic: Record<string, unknown> = { model: 'm' };
    cyclic.self = cyclic;
    prepare = (req) => {
      req.resume();
      req._body = true;
      req.body = cyclic;
    };
    expect(errorCode(await send(['x']))).toEqual([400, 'invalid_body', 'invalid_request_error']);
  });

  it('takes a Buffer the host read (express.raw) as raw bytes', async () => {
    const bytes = Buffer.from('{"model":"raw", "n": 1.0}');
    prepare = (req) => {
      req.resume();
      req._body = true;
      req.body = bytes;
    };
    const outcome = await send(['x']);
    expect(outcome).toEqual({ ok: { bytes, raw: '{"model":"raw", "n": 1.0}', parsed: { model: 'raw', n: 1 }, hostParsed: true } });
    expect('ok' in outcome && outcome.ok.bytes).toBe(bytes); // the host's buffer, not a copy
  });

  it('takes a string the host read (express.text) as raw text', async () => {
    prepare = (req) => {
      req.resume();
      req._body = true;
      req.body = '{"model":"text"}';
    };
    expect(await send(['x'])).toEqual({ ok: { bytes: Buffer.from('{"model":"text"}'), raw: '{"model":"text"}', parsed: { model: 'text' }, hostParsed: true } });
  });

  it('refuses a host-parsed array', async () => {
    prepare = (req) => {
      req.resume();
      req._body = true;
      req.body = [1];
    };
    expect(errorCode(await send(['x']))).toEqual([400, 'invalid_body', 'invalid_request_error']);
  });

  it('rejects with a connection error when the client leaves mid-body', async () => {
    limit = 4096;
    const req = http.request(url, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': '1000' } });
    req.on('error', () => undefined);
    req.write('{"model":');
    while (outcomes.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    req.destroy();
    const outcome = await outcomes[0];
    expect('error' in outcome && outcome.error).toMatchObject({ code: 'ECONNRESET' });
  });
});
