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

/** `raw` with `text` put in at `at`, or with `[at, end)` replaced by it. */
const splice = (raw: string, at: number, text: string, end = at): string => raw.slice(0, at) + text + raw.slice(end);

/**
 * The body to send upstream: `body` itself when it already says whether to include usage (or
 * cannot be edited), else a copy that asks for it. Call once per request, before the attempts.
 */
export function withStreamUsage(body: JsonBody): JsonBody {
  const options = body.parsed.stream_options;
  if (options !== undefined && options !== null && !(isObject(options) && options.include_usage === undefined)) return body;
  const parsed = { ...body.parsed, stream_options: { ...(isObject(options) ? options : {}), include_usage: true } };
  const raw = (body.raw !== undefined && edit(body.raw, options)) || JSON.stringify(parsed);
  return { bytes: Buffer.from(raw), raw, parsed, hostParsed: body.hostParsed, modelSpan: undefined };
}

/** The edited text, or undefined when the value to edit is not where the parse says (not expected). */
function edit(raw: string, options: unknown): string | undefined {
  if (options === undefined) return splice(raw, raw.indexOf('{') + 1, `${OPTION},`);
  const at = lastOptionValue(raw);
  if (at === -1) return undefined;
  if (options === null) return raw.startsWith('null', at) ? splice(raw, at, `{${FIELD}}`, at + 4) : undefined;
  if (raw.charCodeAt(at) !== 0x7b) return undefined;
  const inside = skipSpace(raw, at + 1);
  return splice(raw, at + 1, raw.charCodeAt(inside) === 0x7d ? FIELD : `${FIELD},`);
}
