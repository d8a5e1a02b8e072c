/**
 * One normaliser per API, from that API's own usage object to `Usage`. Each reports exactly what
 * the upstream sent: optional counts appear only when the upstream gave them, and a count that is
 * not a finite number >= 0 counts as not given.
 */
import type { Usage } from './types.js';

type Fields = Record<string, unknown>;

function isObject(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}

function nested(object: Fields, key: string, field: string): number | undefined {
  const inner = object[key];
  return isObject(inner) ? count(inner[field]) : undefined;
}

/** Builds a Usage from the counts found; undefined when neither input nor output was given. */
function build(input: number | undefined, output: number | undefined, total: number | undefined, cached?: number, reasoning?: number): Usage | undefined {
  if (input === undefined && output === undefined) return undefined;
  const usage: Usage = { input_tokens: input ?? 0, output_tokens: output ?? 0, total_tokens: total ?? (input ?? 0) + (output ?? 0) };
  if (cached !== undefined) usage.cached_input_tokens = cached;
  if (reasoning !== undefined) usage.reasoning_tokens = reasoning;
  return usage;
}

/** Chat Completions and legacy Completions: `prompt_tokens`, `completion_tokens`, `total_tokens` and their details. */
export function usageFromChat(usage: unknown): Usage | undefined {
  if (!isObject(usage)) return undefined;
  return build(
    count(usage.prompt_tokens),
    count(usage.completion_tokens),
    count(usage.total_tokens),
    nested(usage, 'prompt_tokens_details', 'cached_tokens'),
    nested(usage, 'completion_tokens_details', 'reasoning_tokens'),
  );
}

/** Embeddings: `prompt_tokens` is the input; there is no output; the total is `total_tokens` or the input. */
export function usageFromEmbeddings(usage: unknown): Usage | undefined {
  if (!isObject(usage)) return undefined;
  const input = count(usage.prompt_tokens);
  if (input === undefined) return undefined;
  return { input_tokens: input, output_tokens: 0, total_tokens: count(usage.total_tokens) ?? input };
}

/** Responses API: `input_tokens`, `output_tokens`, `total_tokens` and their details. */
export function usageFromResponses(usage: unknown): Usage | undefined {
  if (!isObject(usage)) return undefined;
  return build(
    count(usage.input_tokens),
    count(usage.output_tokens),
    count(usage.total_tokens),
    nested(usage, 'input_tokens_details', 'cached_tokens'),
    nested(usage, 'output_tokens_details', 'reasoning_tokens'),
  );
}

/**
 * Anthropic Messages: `input_tokens`, `output_tokens`, `cache_read_input_tokens`. Anthropic sends no
 * total, so it is input + output. Its `input_tokens` leaves out cache reads and writes (OpenAI's
 * `prompt_tokens` includes cached tokens); the figures are passed on as sent.
 */
export function usageFromMessages(usage: unknown): Usage | undefined {
  if (!isObject(usage)) return undefined;
  return build(count(usage.input_tokens), count(usage.output_tokens), undefined, count(usage.cache_read_input_tokens));
}
