/**
 * The bodies the OpenAI Responses mock (responses-upstream.ts) sends: the response object, its SSE
 * events with `sequence_number` from 0, the input items list, and OpenAI's error bodies.
 */
import { deltasOf } from './mock-api.js';

/** OpenAI's error answers the mock can script, by name. */
export const OPENAI_ERRORS = {
  invalid_request: { status: 400, type: 'invalid_request_error', code: null, param: null, message: "Invalid value: 'x'. Supported values are: 'y'." },
  unauthorized: { status: 401, type: 'invalid_request_error', code: 'invalid_api_key', param: null, message: 'Incorrect API key provided: sk-***. You can find your API key at https://platform.openai.com/account/api-keys.' },
  not_found: { status: 404, type: 'invalid_request_error', code: null, param: null, message: 'Not found' },
  rate_limit: { status: 429, type: 'requests', code: 'rate_limit_exceeded', param: null, message: 'Rate limit reached for requests. Please try again in 1s.' },
  server_error: { status: 500, type: 'server_error', code: null, param: null, message: 'The server had an error while processing your request. Sorry about that!' },
  unavailable: { status: 503, type: 'server_error', code: null, param: null, message: 'The engine is currently overloaded, please try again later' },
} as const;
export type OpenAIErrorName = keyof typeof OPENAI_ERRORS;

export function openaiError(message: string, type: string, param: string | null = null, code: string | null = null) {
  return { error: { message, type, param, code } };
}

export interface ResponsesUsage {
  input_tokens: number;
  cached_tokens: number;
  output_tokens: number;
  reasoning_tokens: number;
}

/** How a streamed answer ends: completed, or after its first `afterEvents` events with a failure. */
export type StreamEnding =
  | { kind: 'completed' }
  | { kind: 'failed' | 'error' | 'error-unsequenced'; afterEvents: number; code: string; message: string };

const CREATED_AT = 1_760_000_000;

export type ResponseObject = ReturnType<typeof responseOf>;

/** The response object, echoing the request's settings as the real API does. */
export function responseOf(id: string, messageId: string, body: Record<string, unknown>, text: string | string[], usage: ResponsesUsage, n: number) {
  const background = body.background === true;
  return {
    id,
    object: 'response' as const,
    created_at: CREATED_AT + n,
    status: (background ? 'queued' : 'completed') as string,
    background,
    completed_at: (background ? null : CREATED_AT + n + 1) as number | null,
    error: null as { code: string; message: string } | null,
    incomplete_details: null,
    instructions: body.instructions ?? null,
    max_output_tokens: body.max_output_tokens ?? null,
    max_tool_calls: null,
    model: String(body.model),
    output: background ? [] : [messageItem(messageId, deltasOf(text).join(''))],
    parallel_tool_calls: body.parallel_tool_calls ?? true,
    previous_response_id: body.previous_response_id ?? null,
    prompt_cache_key: body.prompt_cache_key ?? null,
    reasoning: { effort: null, summary: null },
    safety_identifier: null,
    service_tier: 'default',
    store: body.store !== false,
    temperature: body.temperature ?? 1,
    text: { format: { type: 'text' }, verbosity: 'medium' },
    tool_choice: body.tool_choice ?? 'auto',
    tools: body.tools ?? [],
    top_logprobs: 0,
    top_p: body.top_p ?? 1,
    truncation: 'disabled',
    usage: background ? null : usageOf(usage),
    user: null,
    metadata: body.metadata ?? {},
  };
}

const usageOf = (usage: ResponsesUsage) => ({
  input_tokens: usage.input_tokens,
  input_tokens_details: { cached_tokens: usage.cached_tokens },
  output_tokens: usage.output_tokens,
  output_tokens_details: { reasoning_tokens: usage.reasoning_tokens },
  total_tokens: usage.input_tokens + usage.output_tokens,
});

const textPart = (text: string) => ({ type: 'output_text', annotations: [], logprobs: [], text });

function messageItem(id: string, text: string, status = 'completed') {
  return { id, type: 'message', status, content: [textPart(text)], role: 'assistant' };
}

export interface ResponseEvent {
  event: string;
  data: Record<string, unknown> & { type: string; sequence_number?: number };
}

/** The events of a streamed response, in the real order, numbered from 0. */
export function responseEvents(response: ResponseObject, text: string | string[], ending: StreamEnding): ResponseEvent[] {
  const item = response.output[0] ?? messageItem(`msg_${response.id.slice(5)}`, '');
  const events: (Record<string, unknown> & { type: string })[] = [];
  const live = { ...response, status: 'in_progress', completed_at: null, output: [], usage: null };
  const at = { item_id: item.id, output_index: 0, content_index: 0 };
  events.push({ type: 'response.created', response: live }, { type: 'response.in_progress', response: live });
  events.push({ type: 'response.output_item.added', output_index: 0, item: { ...item, status: 'in_progress', content: [] } });
  events.push({ type: 'response.content_part.added', ...at, part: textPart('') });
  const deltas = deltasOf(text);
  for (const delta of deltas) events.push({ type: 'response.output_text.delta', ...at, delta, logprobs: [], obfuscation: 'mOck' });
  const full = deltas.join('');
  events.push({ type: 'response.output_text.done', ...at, text: full, logprobs: [] });
  events.push({ type: 'response.content_part.done', ...at, part: textPart(full) });
  events.push({ type: 'response.output_item.done', output_index: 0, item });
  events.push({ type: 'response.completed', response });
  const numbered = (list: typeof events): ResponseEvent[] => list.map((data, i) => ({ event: data.type, data: { ...data, sequence_number: i } }));
  if (ending.kind === 'completed') return numbered(events);
  const shown = events.slice(0, ending.afterEvents);
  if (ending.kind === 'failed') {
    const error = { code: ending.code, message: ending.message };
    return numbered([...shown, { type: 'response.failed', response: { ...live, status: 'failed', error } }]);
  }
  const error = { type: 'error', code: ending.code, message: ending.message, param: null, sequence_number: shown.length };
  if (ending.kind === 'error-unsequenced') delete (error as Partial<typeof error>).sequence_number;
  return [...numbered(shown), { event: 'error', data: error }];
}

/** The request's `input` as the stored input items (a string becomes one user message). */
export function inputItemsOf(input: unknown, idOf: (i: number) => string): Record<string, unknown>[] {
  const items = typeof input === 'string' ? [{ role: 'user', content: input }] : Array.isArray(input) ? (input as Record<string, unknown>[]) : [];
  return items.map((item, i) => {
    const content = typeof item.content === 'string' ? [{ type: item.role === 'assistant' ? 'output_text' : 'input_text', text: item.content }] : item.content;
    return { id: idOf(i), type: 'message', status: 'completed', ...item, ...(content === undefined ? {} : { content }) };
  });
}
