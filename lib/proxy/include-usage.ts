/**
 * `usage.includeInStreams`: asks an OpenAI chat or completions upstream for the stream's usage
 * chunk by adding `"stream_options":{"include_usage":true}` to a body that does not say, leaving
 * every other byte as the client sent it (as the model rewrite does). What the client said is
 * kept: a body that sets `include_usage` at all, even to false, and a `stream_options` that is not
 * an object (the upstream's 400 is then the client's answer), are sent unchanged.
 */
import type { JsonBody } from '../http/read-body.js';
import { skipSpace, stringEnd, valueEnd } from './rewrite-model.js';

const FIELD = '"include_usage":true';
const OPTION = `"stream_options":{${FIELD}}`;
const KEY = 'stream_options';

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The longest spelling of the key, all escapes, quotes included. */
const MAX_KEY_LENGTH = 2 + KEY.length * 6;

function isOptionKey(raw: string, start: number, end: number): boolean {
  const length = end - start;
  if (length === KEY.length + 2) return raw.startsWith(KEY, start + 1);
  if (length > MAX_KEY_LENGTH || length < KEY.length + 2) return false;
  const key = raw.slice(start, end);
  return key.includes('\\') && JSON.parse(key) === KEY;
}

/**
 * Where the value of the last top-level `stream_options` key starts in `raw` (the one JSON.parse
 * keeps), or -1. Keys spelled with escapes count, as for `model`.
 */
function lastOptionValue(raw: string): number {
  let i = skipSpace(raw, 0);
  if (raw.charCodeAt(i) !== 0x7b) return -1;
  i = skipSpace(raw, i + 1);
  let found = -1;
  while (raw.charCodeAt(i) === 0x22) {
    const keyEnd = stringEnd(raw, i);
    const start = skipSpace(raw, skipSpace(raw, keyEnd) + 1); // past the colon
    if (isOptionKey(raw, i, keyEnd)) found = start;
    i = skipSpace(raw, valueEnd(raw, start));
    if (raw.charCodeAt(i) !== 0x2c) break;
    i = skipSpace(raw, i + 1);
  }
  return found;
}

/** Replace `[at, end)` of the raw text with `text` (an insertion when `end === at`). */
interface Change {
  at: number;
  end: number;
  text: string;
}

/**
 * The body to send upstream: `body` itself when it already says whether to include usage (or
 * cannot be edited), else a copy that asks for it. Call once per request, before the attempts.
 */
export function withStreamUsage(body: JsonBody): JsonBody {
  const options = body.parsed.stream_options;
  if (options !== undefined && options !== null && !(isObject(options) && options.include_usage === undefined)) return body;
  const parsed = { ...body.parsed, stream_options: { ...(isObject(options) ? options : {}), include_usage: true } };
  const { raw } = body;
  const change = raw === undefined ? undefined : changeOf(raw, options);
  if (raw === undefined || change === undefined) {
    const text = JSON.stringify(parsed);
    return { bytes: Buffer.from(text), raw: text, parsed, hostParsed: body.hostParsed, modelSpan: undefined };
  }
  return { bytes: edited(body.bytes, raw, change), raw: raw.slice(0, change.at) + change.text + raw.slice(change.end), parsed, hostParsed: body.hostParsed, modelSpan: shifted(body.modelSpan, change) };
}

/** The edit, or undefined when the value to edit is not where the parse says (not expected). */
function changeOf(raw: string, options: unknown): Change | undefined {
  if (options === undefined) {
    const at = raw.indexOf('{') + 1;
    return { at, end: at, text: `${OPTION},` };
  }
  const at = lastOptionValue(raw);
  if (at === -1) return undefined;
  if (options === null) return raw.startsWith('null', at) ? { at, end: at + 4, text: `{${FIELD}}` } : undefined;
  if (raw.charCodeAt(at) !== 0x7b) return undefined;
  const inside = skipSpace(raw, at + 1);
  return { at: at + 1, end: at + 1, text: raw.charCodeAt(inside) === 0x7d ? FIELD : `${FIELD},` };
}

/** The body's bytes with the change applied, copying the client's bytes rather than encoding the text again. */
function edited(bytes: Buffer | undefined, raw: string, change: Change): Buffer {
  if (bytes === undefined) return Buffer.from(raw.slice(0, change.at) + change.text + raw.slice(change.end));
  // `bytes` is exactly `raw` in UTF-8 (read-body checks it), so offsets translate by byte length.
  const at = Buffer.byteLength(raw.slice(0, change.at));
  const end = at + Buffer.byteLength(raw.slice(change.at, change.end));
  return Buffer.concat([bytes.subarray(0, at), Buffer.from(change.text), bytes.subarray(end)]);
}

/** The model's span after the change (never inside it: the change is at the start or inside `stream_options`). */
function shifted(span: JsonBody['modelSpan'], change: Change): JsonBody['modelSpan'] {
  if (!span || span.start < change.end) return span;
  const by = change.text.length - (change.end - change.at);
  return { start: span.start + by, end: span.end + by };
}
