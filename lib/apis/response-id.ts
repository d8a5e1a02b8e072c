/**
 * The id of a Responses API response, found without parsing the whole of it: the top-level `id`
 * of a JSON answer (OpenAI writes it first; else a depth-aware scan of the first 16 KiB), and
 * `response.id` of a stream's `response.created` event.
 */
import { keyPositions, lastTopLevelKeyFromStart } from '../usage/json-key-scan.js';

const HEAD_BYTES = 16 * 1024;
const ID_KEY = Buffer.from('"id"');
/** Longer ids are not remembered: no provider makes them, and they would only fill the map. */
const MAX_ID_LENGTH = 256;

const isSpace = (byte: number): boolean => byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d;

function skipSpace(bytes: Buffer, i: number): number {
  while (i < bytes.length && isSpace(bytes[i])) i++;
  return i;
}

const usable = (id: unknown): string | undefined => (typeof id === 'string' && id.length > 0 && id.length <= MAX_ID_LENGTH ? id : undefined);

/** The string value of the `"id"` key whose opening quote is at `key`, when it is a string ending in `bytes`. */
function stringAfterKey(bytes: Buffer, key: number): string | undefined {
  let i = skipSpace(bytes, key + ID_KEY.length);
  if (bytes[i] !== 0x3a /* : */) return undefined;
  i = skipSpace(bytes, i + 1);
  if (bytes[i] !== 0x22 /* " */) return undefined;
  const close = bytes.indexOf(0x22, i + 1);
  if (close === -1 || close - i > MAX_ID_LENGTH + 1) return undefined;
  try {
    return usable(JSON.parse(bytes.toString('utf8', i, close + 1))); // an id with an escaped quote is not one we can use
  } catch {
    return undefined;
  }
}

/** The top-level `id` of a JSON answer, from its first 16 KiB. */
export function responseIdOfAnswer(body: Buffer): string | undefined {
  const head = body.length > HEAD_BYTES ? body.subarray(0, HEAD_BYTES) : body;
  const open = skipSpace(head, 0);
  if (head[open] !== 0x7b /* { */) return undefined;
  const first = skipSpace(head, open + 1);
  if (head.compare(ID_KEY, 0, ID_KEY.length, first, first + ID_KEY.length) === 0) return stringAfterKey(head, first);
  const key = lastTopLevelKeyFromStart(head, keyPositions(head, ID_KEY));
  return key === -1 ? undefined : stringAfterKey(head, key);
}

/** `"response":{"id":"…"` as OpenAI writes `response.created`; other layouts are parsed. */
const CREATED_ID = /"response"\s*:\s*\{\s*"id"\s*:\s*"([^"\\]+)"/;

/** `response.id` of a `response.created` event's data. */
export function responseIdOfCreated(data: string): string | undefined {
  const match = CREATED_ID.exec(data);
  if (match) return usable(match[1]);
  try {
    return usable((JSON.parse(data) as { response?: { id?: unknown } } | null)?.response?.id);
  } catch {
    return undefined;
  }
}
