/**
 * Swaps the body's `model` for the upstream name, leaving every other byte as the client sent
 * it: number formats, key order, whitespace and escapes survive.
 */
import { invalidRequest } from '../errors/openai-error.js';
import type { JsonBody } from '../http/read-body.js';

const MODEL_KEY = /"model"\s*:\s*("(?:[^"\\]|\\.)*")/g;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

interface Span {
  start: number;
  end: number;
}

/** Index just past the string starting at `start` (a quote). */
function stringEnd(raw: string, start: number): number {
  let i = start + 1;
  while (i < raw.length) {
    const c = raw.charCodeAt(i);
    if (c === BACKSLASH) i += 2;
    else if (c === QUOTE) return i + 1;
    else i += 1;
  }
  return raw.length;
}

/**
 * The span of the top-level `model` value, found by a scan that tracks depth, for bodies where a
 * nested `"model"` key makes the one-regex fast path ambiguous. Iterative: any depth is fine.
 */
function topLevelModelSpan(raw: string): Span | undefined {
  let depth = 0;
  let expectKey = false;
  let found: Span | undefined;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (c === '"') {
      const end = stringEnd(raw, i);
      if (depth === 1 && expectKey) {
        expectKey = false;
        const key = raw.slice(i, end);
        if (key === '"model"' || (key.includes('\\') && JSON.parse(key) === 'model')) {
          let v = end;
          while (v < raw.length && raw[v] !== ':') v++;
          v++;
          while (v < raw.length && /\s/.test(raw[v])) v++;
          // Duplicate keys: JSON.parse keeps the last one, so do we.
          found = raw[v] === '"' ? { start: v, end: stringEnd(raw, v) } : undefined;
        }
      }
      i = end - 1;
    } else if (c === '{' || c === '[') {
      depth++;
      expectKey = c === '{' && depth === 1;
    } else if (c === '}' || c === ']') {
      depth--;
    } else if (c === ',' && depth === 1) {
      expectKey = true;
    }
  }
  return found;
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function splice(raw: string, span: Span, upstreamModel: string): string {
  return raw.slice(0, span.start) + JSON.stringify(upstreamModel) + raw.slice(span.end);
}

/** The upstream request body: the client's own bytes, uncopied, when the model name is unchanged. */
export function upstreamBody(body: JsonBody, upstreamModel: string): Buffer {
  if (body.bytes !== undefined && body.parsed.model === upstreamModel) return body.bytes;
  return Buffer.from(rewriteModel(body, upstreamModel));
}

export function rewriteModel(body: JsonBody, upstreamModel: string): string {
  const { raw, parsed } = body;
  if (raw !== undefined) {
    if (parsed.model === upstreamModel) {
      return raw;
    }
    MODEL_KEY.lastIndex = 0;
    const first = MODEL_KEY.exec(raw);
    // One "model" key in the whole body holding the parsed value can only be the top-level one.
    if (first && MODEL_KEY.exec(raw) === null && safeParse(first[1]) === parsed.model) {
      const start = first.index + first[0].length - first[1].length;
      return splice(raw, { start, end: start + first[1].length }, upstreamModel);
    }
    const span = topLevelModelSpan(raw);
    if (span) {
      return splice(raw, span, upstreamModel);
    }
  }
  try {
    return JSON.stringify({ ...parsed, model: upstreamModel });
  } catch {
    // A host-parsed body too deep for JSON.stringify.
    throw invalidRequest(400, 'Request body is nested too deeply', 'invalid_body');
  }
}
