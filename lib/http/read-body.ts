/**
 * Reads and checks the JSON request body once. Copes with a host that already parsed it
 * (`express.json()`, `express.raw()`, `express.text()` mounted before the router).
 */
import { isUtf8 } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import type { HttpError } from '../errors/openai-error.js';
import { invalidRequest } from '../errors/openai-error.js';

export interface JsonBody {
  /** The bytes as received, forwarded as they are when the model needs no rewrite; undefined when the host parsed the body. */
  bytes?: Buffer;
  /** The body as text; undefined when the host parsed the body. */
  raw: string | undefined;
  parsed: Record<string, unknown>;
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

function collect(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = (): void => {
      req.removeListener('data', onData);
      req.removeListener('end', onEnd);
      req.removeListener('error', onError);
      req.removeListener('aborted', onAborted);
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
    };
    const onEnd = (): void => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(error);
    };
    const onAborted = (): void => onError(Object.assign(new Error('client aborted while sending the body'), { code: 'ECONNRESET' }));
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', onError);
    req.once('aborted', onAborted);
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
  if (consumed) {
    if (Buffer.isBuffer(host.body)) {
      return fromBytes(host.body);
    }
    if (typeof host.body === 'string') {
      return { raw: host.body, parsed: asObject(parse(host.body)), modelSpan: undefined };
    }
    return { raw: undefined, parsed: asObject(host.body) };
  }
  const declared = Number(req.headers['content-length']);
  if (declared > limit) {
    req.resume(); // as in collect(): discarded until the 413 closes the connection
    throw tooLarge(limit);
  }
  return fromBytes(await collect(req, limit));
}
