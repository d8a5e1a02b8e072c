/**
 * A misbehaving OpenAI-compatible upstream on a raw `node:net` server (127.0.0.1:0), so it can
 * send what `node:http` would refuse to: short bodies, resets mid-body, odd header bytes.
 *
 * A request picks its fault with a body field `"fault": "<mode>"` (the proxy forwards unknown
 * fields untouched), else the server's default mode. `"stream": true` selects the SSE variant.
 *
 * | mode           | JSON variant                                   | SSE variant                          |
 * |----------------|------------------------------------------------|--------------------------------------|
 * | `ok`           | 200 completion                                 | 3 chunks and `[DONE]`                |
 * | `hang`         | accepts, never answers                         | same                                 |
 * | `headers-only` | 200 headers (content-length 100), no body      | 200 SSE headers, no body             |
 * | `reset`        | RST after half the body (mid-body)             | RST after 2 events (mid-stream)      |
 * | `truncated`    | half a JSON doc, content-length matches it     | events then half an event, clean end |
 * | `malformed-sse`| SSE with garbage events (even when not asked)  | same                                 |
 * | `gzip` `deflate` `br` | compressed body + `content-encoding`    | compressed stream + `content-encoding` |
 * | `short-body`   | content-length 500 more than the body, FIN     | same, on an SSE body                 |
 * | `slow`         | one byte per `slowMs`                          | one byte per chunk per `slowMs`      |
 * | `big`          | 5 MB JSON completion                           | 5 MB over 4 kB events                |
 * | `odd-headers`  | 200 completion with hostile/odd headers        | same headers on a normal stream      |
 * | `bare-cr-header` | 200 completion, a header value with a bare CR | same                                 |
 *
 * Connection refused: use `refusedBaseUrl` (a port nothing listens on).
 */
import net from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import zlib from 'node:zlib';
import { chunkEvent, completion, refusedPort } from './upstream.js';
import type { RecordedRequest } from './upstream.js';

export const FAULT_MODES = ['ok', 'hang', 'headers-only', 'reset', 'truncated', 'malformed-sse', 'gzip', 'deflate', 'br', 'short-body', 'slow', 'big', 'odd-headers', 'bare-cr-header'] as const;
export type FaultMode = (typeof FAULT_MODES)[number];

export interface FaultUpstream {
  baseUrl: string;
  origin: string;
  /** A base URL whose port refuses connections. */
  refusedBaseUrl: string;
  requests: RecordedRequest[];
  /** Sockets currently open to this server. */
  openSockets(): number;
  setMode(mode: FaultMode): void;
  close(): Promise<void>;
}

export interface FaultUpstreamOptions {
  mode?: FaultMode;
  /** Delay between bytes in `slow` mode. Default 2 ms. */
  slowMs?: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The exact bytes the non-failing modes send, for byte-for-byte assertions. */
export const BODIES = {
  okJson: (model: string) => JSON.stringify(completion(model)),
  okSse: (model: string) => chunkEvent(model, 'Hel') + chunkEvent(model, 'lo') + chunkEvent(model, '', 'stop') + 'data: [DONE]\n\n',
  truncatedJson: '{"id":"chatcmpl-trunc","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"cut he',
  truncatedSse: (model: string) => chunkEvent(model, 'one') + 'data: {"id":"chatcmpl-test","choices":[{"delta":{"content":"tw',
  malformedSse: 'data: {not json}\n\n: a comment\n\nevent: weird\nretry: soon\nid\n\n\r\ndata: crlf\r\n\r\ndata: no blank line at the end',
  big: (model: string) => JSON.stringify(completion(model, 'x'.repeat(5 * 1024 * 1024))),
  bigSse: () => Array.from({ length: 1280 }, (_, i) => `data: ${JSON.stringify({ i, pad: 'y'.repeat(4070) })}\n\n`).join(''),
};

/** Headers an upstream might send that must never reach the client as they are. */
export const ODD_HEADERS = [
  'set-cookie: session=upstream; Path=/',
  'set-cookie: other=1',
  'connection: keep-alive, x-hop-named',
  'x-hop-named: only-for-this-hop',
  'keep-alive: timeout=77, max=3',
  'proxy-authenticate: Basic',
  'trailer: x-trail',
  'upgrade: h2c',
  'x-request-id: upstream-id',
  'x-obs-text: caf\xe9 \xff',
  'x-tab: a\tb',
  'x-passes: kept',
];

/** A value with a bare CR that a lenient parser could split into a second header. */
export const BARE_CR = 'x-cr: a\rset-cookie: injected=1';

function head(status: string, headers: string[]): string {
  return `HTTP/1.1 ${status}\r\n${headers.join('\r\n')}\r\n\r\n`;
}

const chunk = (data: Buffer | string) => {
  const bytes = Buffer.isBuffer(data) ? data : Buffer.from(data, 'latin1');
  return Buffer.concat([Buffer.from(`${bytes.length.toString(16)}\r\n`), bytes, Buffer.from('\r\n')]);
};
const LAST_CHUNK = '0\r\n\r\n';

function compressor(mode: 'gzip' | 'deflate' | 'br') {
  const flush = mode === 'br' ? zlib.constants.BROTLI_OPERATION_FLUSH : zlib.constants.Z_SYNC_FLUSH;
  const stream = mode === 'gzip' ? zlib.createGzip() : mode === 'deflate' ? zlib.createDeflate() : zlib.createBrotliCompress();
  return { stream, flush };
}

const compress = (mode: 'gzip' | 'deflate' | 'br', text: string): Buffer =>
  mode === 'gzip' ? zlib.gzipSync(text) : mode === 'deflate' ? zlib.deflateSync(text) : zlib.brotliCompressSync(text);

async function answer(socket: Socket, mode: FaultMode, sse: boolean, model: string, slowMs: number): Promise<void> {
  const json = ['content-type: application/json'];
  const stream = ['content-type: text/event-stream', 'transfer-encoding: chunked'];
  const writeJson = (body: string, extra: string[] = []) => socket.write(head('200 OK', [...json, ...extra, `content-length: ${Buffer.byteLength(body)}`]) + body);
  const writeSse = async (events: string[], extra: string[] = []) => {
    socket.write(head('200 OK', [...stream, ...extra]));
    for (const event of events) {
      socket.write(chunk(event));
      await sleep(1);
    }
    socket.write(LAST_CHUNK);
  };
  const okEvents = () => [chunkEvent(model, 'Hel'), chunkEvent(model, 'lo'), chunkEvent(model, '', 'stop'), 'data: [DONE]\n\n'];
  switch (mode) {
    case 'ok':
      return sse ? writeSse(okEvents()) : void writeJson(BODIES.okJson(model));
    case 'hang':
      return;
    case 'headers-only':
      socket.write(head('200 OK', sse ? stream : [...json, 'content-length: 100']));
      return;
    case 'reset': {
      if (sse) {
        socket.write(head('200 OK', stream) + chunk(chunkEvent(model, 'a')) + chunk(chunkEvent(model, 'b')));
      } else {
        const body = BODIES.okJson(model);
        socket.write(head('200 OK', [...json, `content-length: ${body.length}`]) + body.slice(0, body.length >> 1));
      }
      await sleep(20);
      socket.resetAndDestroy();
      return;
    }
    case 'truncated':
      return sse ? writeSse([BODIES.truncatedSse(model)]) : void writeJson(BODIES.truncatedJson);
    case 'malformed-sse':
      return writeSse([BODIES.malformedSse.slice(0, 20), BODIES.malformedSse.slice(20)]);
    case 'gzip':
    case 'deflate':
    case 'br': {
      if (!sse) {
        const body = compress(mode, BODIES.okJson(model));
        socket.write(head('200 OK', [...json, `content-encoding: ${mode}`, `content-length: ${body.length}`]));
        socket.write(body);
        return;
      }
      socket.write(head('200 OK', [...stream, `content-encoding: ${mode}`]));
      const { stream: z, flush } = compressor(mode);
      z.on('data', (data: Buffer) => socket.write(chunk(data)));
      for (const event of okEvents()) {
        z.write(event);
        await new Promise<void>((resolve) => z.flush(flush, () => resolve()));
        await sleep(1);
      }
      await new Promise<void>((resolve) => z.end(() => resolve()));
      await sleep(5);
      socket.write(LAST_CHUNK);
      return;
    }
    case 'short-body': {
      const body = sse ? BODIES.okSse(model) : BODIES.okJson(model);
      socket.write(head('200 OK', [sse ? stream[0] : json[0], `content-length: ${body.length + 500}`]) + body);
      await sleep(20);
      socket.end();
      return;
    }
    case 'slow': {
      const body = sse ? BODIES.okSse(model) : BODIES.okJson(model);
      socket.write(head('200 OK', sse ? stream : [...json, `content-length: ${body.length}`]));
      for (const byte of body) {
        if (socket.destroyed) return;
        socket.write(sse ? chunk(byte) : byte);
        await sleep(slowMs);
      }
      if (sse) socket.write(LAST_CHUNK);
      return;
    }
    case 'big':
      return sse ? writeSse([BODIES.bigSse()]) : void writeJson(BODIES.big(model));
    case 'odd-headers':
      return sse ? writeSse(okEvents(), ODD_HEADERS) : void writeJson(BODIES.okJson(model), ODD_HEADERS);
    case 'bare-cr-header':
      return sse ? writeSse(okEvents(), [BARE_CR]) : void writeJson(BODIES.okJson(model), [BARE_CR]);
  }
}

function parseRequest(buffer: Buffer): { request: RecordedRequest; rest: Buffer } | undefined {
  const end = buffer.indexOf('\r\n\r\n');
  if (end === -1) return undefined;
  const [line, ...lines] = buffer.subarray(0, end).toString('latin1').split('\r\n');
  const headers: Record<string, string> = {};
  for (const header of lines) {
    const colon = header.indexOf(':');
    headers[header.slice(0, colon).trim().toLowerCase()] = header.slice(colon + 1).trim();
  }
  const length = Number(headers['content-length'] ?? 0);
  if (buffer.length < end + 4 + length) return undefined;
  const body = buffer.subarray(end + 4, end + 4 + length).toString('utf8');
  const [method, url] = line.split(' ');
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(body);
  } catch {
    json = undefined;
  }
  return { request: { method, url, headers, body, json }, rest: buffer.subarray(end + 4 + length) };
}

export async function startFaultUpstream(options: FaultUpstreamOptions = {}): Promise<FaultUpstream> {
  let mode: FaultMode = options.mode ?? 'ok';
  const slowMs = options.slowMs ?? 2;
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buffer: Buffer = Buffer.alloc(0);
    let busy: Promise<void> = Promise.resolve();
    socket.on('data', (data: Buffer) => {
      buffer = Buffer.concat([buffer, data]);
      for (let parsed = parseRequest(buffer); parsed; parsed = parseRequest(buffer)) {
        buffer = parsed.rest;
        const { request } = parsed;
        requests.push(request);
        const fault = typeof request.json?.fault === 'string' ? (request.json.fault as FaultMode) : mode;
        const model = String(request.json?.model);
        busy = busy.then(() => answer(socket, fault, request.json?.stream === true, model, slowMs)).catch(() => {
          socket.destroy();
        });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const refused = await refusedPort();
  return {
    baseUrl: `${origin}/v1`,
    origin,
    refusedBaseUrl: `http://127.0.0.1:${refused}/v1`,
    requests,
    openSockets: () => sockets.size,
    setMode(next) {
      mode = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

