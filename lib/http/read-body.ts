/**
 * Reads and checks the JSON request body once. Copes with a host that already parsed it
 * (`express.json()`, `express.raw()`, `express.text()` mounted before the router): its `req.body`
 * is serialised once, held to the same limit, and flagged so the router can warn the host.
 */
import { isUtf8 } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import type { HttpError } from '../errors/openai-error.js';
import { invalidRequest } from '../errors/openai-error.js';
import { joinChunks } from '../util/join-chunks.js';
import { requestState } from './request-state.js';

export interface JsonBody {
  /** The bytes forwarded when the model needs no rewrite: as received, or the host-parsed body serialised once. */
  bytes?: Buffer;
  /** The body as text (for a host-parsed body, its serialisation). */
  raw: string | undefined;
  parsed: Record<string, unknown>;
  /** True when a body parser of the host's had read the request before the router. */
  hostParsed?: boolean;
  /**
   * @internal Where the top-level `model` value is in `raw`, once `modelSpan()` (proxy/rewrite-model)
   * has scanned for it; null when there is none. Kept here so retries do not scan again.
   */
  modelSpan?: { start: number; end: number } | null;
}

type HostParsed = IncomingMessage & { body?: unknown; _body?: boolean };

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

export function tooLarge(limit: number): HttpError {
  return invalidRequest(413, `Request body is larger than the limit of ${limit} bytes`, 'request_too_large');
}

/** The client left before its body was read whole: a 499, never an answer. */
function clientAborted(): Error {
  return Object.assign(new Error('client aborted while sending the body'), { code: 'ECONNRESET' });
}

/**
 * The body's bytes. With a declared length (`declared` ≥ 0) the chunk that completes it resolves
 * at once: Node emits 'end' a tick later, after it has destroyed the request and queued its
 * 'close', and every request would wait for that before its upstream call could start.
 */
function collect(req: IncomingMessage, limit: number, declared: number): Promise<Buffer> {
  // A client that left while earlier middleware waited (an async key check, a rate limit): its
  // request was destroyed and will emit nothing more.
  if (req.destroyed) return Promise.reject(clientAborted());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = (): void => {
      req.removeListener('data', onData);
      req.removeListener('end', onEnd);
      req.removeListener('error', onError);
      req.removeListener('close', onAborted);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        // Discard what is in flight while the 413 goes out; the answer closes the connection
        // (see sendJson), so an endless upload is not read on.
        req.resume();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
      // The parser hands over no byte past the declared length: this was the last one. Node marks
      // the request complete only after this callback and the promise turns it lets run, so the
      // state says it, for an answer given at once (see `stillSending`). With no listener left, a
      // request destroyed later emits no 'error': Node's IncomingMessage emits it only to listeners.
      if (size === declared) {
        requestState(req).bodyRead = true;
        onEnd();
      }
    };
    const onEnd = (): void => {
      cleanup();
      resolve(joinChunks(chunks, size));
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(error);
    };
    const onAborted = (): void => onError(clientAborted());
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', onError);
    // 'close' before 'end': the client left (Node destroys the request, which emits 'aborted',
    // 'error' to a listener, and 'close'), or it was destroyed without an error.
    req.once('close', onAborted);
  });
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw invalidRequest(400, 'Request body is not valid JSON', 'invalid_json');
  }
}

function asObject(value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidRequest(400, 'Request body must be a JSON object', 'invalid_body');
  }
  return value as Record<string, unknown>;
}

/**
 * A body the host's parser already read: the bytes it kept (`express.raw`, `express.text`) or
 * the object it made (`express.json`), serialised here once, so every attempt forwards the same
 * bytes. Both are held to `limit`; a host parser's own limit has applied before.
 */
function fromHost(body: unknown, limit: number): JsonBody {
  if (Buffer.isBuffer(body) || typeof body === 'string') {
    const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body);
    if (bytes.length > limit) throw tooLarge(limit);
    return { ...fromBytes(bytes), hostParsed: true };
  }
  const parsed = asObject(body);
  let raw: unknown;
  try {
    raw = JSON.stringify(parsed);
  } catch {
    // A host-parsed body too deep for JSON.stringify, or with a cycle.
    throw invalidRequest(400, 'Request body is nested too deeply', 'invalid_body');
  }
  if (typeof raw !== 'string') throw invalidRequest(400, 'Request body must be a JSON object', 'invalid_body');
  const bytes = Buffer.from(raw);
  if (bytes.length > limit) throw tooLarge(limit);
  return { bytes, raw, parsed, modelSpan: undefined, hostParsed: true };
}

function fromBytes(bytes: Buffer): JsonBody {
  if (!isUtf8(bytes)) {
    throw invalidRequest(400, 'Request body is not valid UTF-8', 'invalid_encoding');
  }
  const raw = bytes.toString('utf8');
  return { bytes, raw, parsed: asObject(parse(raw)), modelSpan: undefined };
}

/** Reads the body (or takes the host's parse), enforcing `limit` bytes and a JSON content type. */
export async function readJsonBody(req: IncomingMessage, limit: number): Promise<JsonBody> {
  const contentType = req.headers['content-type'];
  if (contentType !== undefined && !JSON_TYPE.test(contentType)) {
    throw invalidRequest(415, 'Content-Type must be application/json', 'unsupported_media_type');
  }
  const host = req as HostParsed;
  const consumed = host._body === true || host.readableEnded;
  if (consumed) return fromHost(host.body, limit);
  const declared = Number(req.headers['content-length']);
  if (declared > limit) {
    req.resume(); // as in collect(): discarded until the 413 closes the connection
    throw tooLarge(limit);
  }
  return fromBytes(await collect(req, limit, Number.isSafeInteger(declared) ? declared : -1));
}
