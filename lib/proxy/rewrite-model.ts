/**
 * Swaps the body's `model` for the upstream name, leaving every other byte as the client sent
 * it: number formats, key order, whitespace and escapes survive.
 *
 * The top-level `model` is found by a JSON scan, not a pattern: a key spelled with escapes
 * (`"\u006dodel"`) is `model` to every parser, so it is the one mapped, and `model` keys nested in
 * other values are left alone. A body with two top-level `model` keys is refused, since parsers
 * disagree on which one wins.
 */
import type { HttpError } from '../errors/openai-error.js';
import { invalidRequest } from '../errors/openai-error.js';
import type { JsonBody } from '../http/read-body.js';

/** Where a value's JSON text starts and ends (exclusive) in the raw body. */
export interface Span {
  start: number;
  end: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
/** `"\u006d\u006f\u0064\u0065\u006c"`: the longest spelling of the key `model`, quotes included. */
const MAX_MODEL_KEY_LENGTH = 2 + 5 * 6;

export function duplicateModelKey(): HttpError {
  return invalidRequest(400, 'The request body has more than one top-level `model` key', 'duplicate_key', 'model');
}

const isSpace = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/** Exported with `stringEnd` and `valueEnd` for the other byte-level body edit (include-usage). */
export function skipSpace(raw: string, i: number): number {
  while (isSpace(raw.charCodeAt(i))) i++;
  return i;
}

/** Index just past the string whose opening quote is at `start`; indexOf does the long jumps. */
export function stringEnd(raw: string, start: number): number {
  let quote = raw.indexOf('"', start + 1);
  while (quote !== -1) {
    let before = quote - 1;
    while (raw.charCodeAt(before) === BACKSLASH) before--;
    if ((quote - 1 - before) % 2 === 0) return quote + 1; // an even run of backslashes escapes nothing
    quote = raw.indexOf('"', quote + 1);
  }
  return raw.length;
}

/** Index just past the value starting at `i`; objects and arrays are skipped by depth alone. */
export function valueEnd(raw: string, i: number): number {
  const first = raw.charCodeAt(i);
  if (first === QUOTE) return stringEnd(raw, i);
  if (first === OPEN_BRACE || first === OPEN_BRACKET) {
    let depth = 0;
    for (let j = i; j < raw.length; j++) {
      const c = raw.charCodeAt(j);
      if (c === QUOTE) j = stringEnd(raw, j) - 1;
      else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
      else if ((c === CLOSE_BRACE || c === CLOSE_BRACKET) && --depth === 0) return j + 1;
    }
    return raw.length;
  }
  let j = i; // a number, true, false or null
  while (j < raw.length) {
    const c = raw.charCodeAt(j);
    if (c === COMMA || c === CLOSE_BRACE || isSpace(c)) break;
    j++;
  }
  return j;
}

function isModelKey(raw: string, start: number, end: number): boolean {
  const length = end - start;
  if (length === 7) return raw.startsWith('"model"', start);
  if (length > MAX_MODEL_KEY_LENGTH || length < 8) return false;
  const key = raw.slice(start, end);
  return key.includes('\\') && JSON.parse(key) === 'model';
}

/**
 * The span of the top-level `model` value in `raw`, a JSON object's text that `JSON.parse`
 * accepted. Walks the top level only, iteratively (any depth is fine). Throws the 400
 * `duplicate_key` error when `model` is a top-level key more than once, in any spelling.
 */
export function topLevelModelSpan(raw: string): Span | undefined {
  let i = skipSpace(raw, 0);
  if (raw.charCodeAt(i) !== OPEN_BRACE) return undefined;
  i = skipSpace(raw, i + 1);
  let found: Span | undefined;
  while (raw.charCodeAt(i) === QUOTE) {
    const keyEnd = stringEnd(raw, i);
    const isModel = isModelKey(raw, i, keyEnd);
    const start = skipSpace(raw, skipSpace(raw, keyEnd) + 1); // past the colon
    const end = valueEnd(raw, start);
    if (isModel) {
      if (found) throw duplicateModelKey();
      found = { start, end };
    }
    i = skipSpace(raw, end);
    if (raw.charCodeAt(i) !== COMMA) break;
    i = skipSpace(raw, i + 1);
  }
  return found;
}

/**
 * The span of the body's top-level `model` value (undefined when the host parsed the body or it
 * has none), scanned once per body. Throws the 400 `duplicate_key` `HttpError` (param `model`)
 * for a body with more than one top-level `model` key: call it where the body is validated.
 */
export function modelSpan(body: JsonBody): Span | undefined {
  if (body.raw === undefined) return undefined;
  if (body.modelSpan === undefined) body.modelSpan = topLevelModelSpan(body.raw) ?? null;
  return body.modelSpan ?? undefined;
}

function splice(raw: string, span: Span, upstreamModel: string): string {
  return raw.slice(0, span.start) + JSON.stringify(upstreamModel) + raw.slice(span.end);
}

/** The upstream request body: the client's own bytes, uncopied, when the model name is unchanged. */
export function upstreamBody(body: JsonBody, upstreamModel: string): Buffer {
  modelSpan(body); // a duplicate key never reaches the upstream, whatever the mapping
  if (body.bytes !== undefined && body.parsed.model === upstreamModel) return body.bytes;
  return Buffer.from(rewriteModel(body, upstreamModel));
}

export function rewriteModel(body: JsonBody, upstreamModel: string): string {
  const { raw, parsed } = body;
  if (raw !== undefined) {
    const span = modelSpan(body);
    if (span && raw.charCodeAt(span.start) === QUOTE) {
      return parsed.model === upstreamModel ? raw : splice(raw, span, upstreamModel);
    }
  }
  try {
    return JSON.stringify({ ...parsed, model: upstreamModel });
  } catch {
    // A host-parsed body too deep for JSON.stringify.
    throw invalidRequest(400, 'Request body is nested too deeply', 'invalid_body');
  }
}
