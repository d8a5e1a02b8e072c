/**
 * Swaps the body's `model` for the upstream name, leaving every other byte as the client sent
 * it: number formats, key order, whitespace and escapes survive. Falls back to re-serialising
 * only when the key cannot be located unambiguously.
 */
import type { JsonBody } from './read-body.js';

const MODEL_KEY = /"model"\s*:\s*("(?:[^"\\]|\\.)*")/g;

export function rewriteModel(body: JsonBody, upstreamModel: string): string {
  const { raw, parsed } = body;
  if (raw !== undefined) {
    if (parsed.model === upstreamModel) {
      return raw;
    }
    MODEL_KEY.lastIndex = 0;
    const first = MODEL_KEY.exec(raw);
    // A second "model" key (nested in tools or metadata) makes the first match ambiguous.
    if (first && MODEL_KEY.exec(raw) === null && safeParse(first[1]) === parsed.model) {
      const start = first.index + first[0].length - first[1].length;
      return raw.slice(0, start) + JSON.stringify(upstreamModel) + raw.slice(start + first[1].length);
    }
  }
  return JSON.stringify({ ...parsed, model: upstreamModel });
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
