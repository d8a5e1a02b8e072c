/**
 * A mock of Anthropic's Messages API, answering as the real API does (shapes, SSE event order, error
 * bodies, `request-id`), checked against `@anthropic-ai/sdk` and `@ai-sdk/anthropic` in
 * `__tests__/kit-selftest/`.
 *
 * Endpoints (the path after `/v1`): `POST /messages` (JSON, or SSE with `"stream": true`),
 * `POST /messages/count_tokens`, `GET /models`, `GET /models/{id}`. Anything else: 404 not_found_error.
 *
 * Failures: `mock.script(...outcomes)` queues outcomes for the next requests, or a request sends
 * `x-mock-outcome: <outcome>`. An outcome is an Anthropic error type (answered with its status,
 * e.g. `rate_limit_error` → 429 with `retry-after`, `overloaded_error` → 529) or `stream:<type>`,
 * which streams the first `streamErrorAfter` events (by default up to two text deltas) and then
 * `event: error` with that type.
 *
 * @example
 * const mock = messagesUpstream({ apiKey: 'sk-ant-test', text: ['Hel', 'lo'] });
 * const upstream = await startUpstream(mock);
 * mock.script('overloaded_error'); // the next request gets a 529
 */
import type { UpstreamHandler } from './upstream.js';
import type { SseWriter } from './mock-api.js';
import { OutcomeScript, deltasOf, mockId, openSse, route, sendJson } from './mock-api.js';

/** Anthropic's error types and the status each comes with. */
export const ANTHROPIC_ERRORS = {
  invalid_request_error: { status: 400, message: 'messages: Field required' },
  authentication_error: { status: 401, message: 'invalid x-api-key' },
  billing_error: { status: 402, message: 'Your credit balance is too low to access the Anthropic API.' },
  permission_error: { status: 403, message: 'Your API key does not have permission to use the specified resource.' },
  not_found_error: { status: 404, message: 'Not found' },
  request_too_large: { status: 413, message: 'Request exceeds the maximum allowed number of bytes.' },
  rate_limit_error: { status: 429, message: 'Number of request tokens has exceeded your per-minute rate limit.' },
  api_error: { status: 500, message: 'Internal server error' },
  timeout_error: { status: 504, message: 'Request timed out' },
  overloaded_error: { status: 529, message: 'Overloaded' },
} as const;
export type AnthropicErrorType = keyof typeof ANTHROPIC_ERRORS;
export type MessagesOutcome = 'ok' | AnthropicErrorType | `stream:${AnthropicErrorType}`;

const ERROR_TYPES = Object.keys(ANTHROPIC_ERRORS) as AnthropicErrorType[];
const OUTCOMES: MessagesOutcome[] = ['ok', ...ERROR_TYPES, ...ERROR_TYPES.map((type) => `stream:${type}` as const)];

export interface AnthropicUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
}

export interface MessagesUpstreamOptions {
  /** The answer's text; a string is streamed one word per delta, an array one item per delta. Default 'Hello from the mock Anthropic upstream'. */
  text?: string | string[];
  /** Usage numbers. Defaults: 12 in, 7 out, 0 cache creation, 0 cache read. */
  usage?: Partial<AnthropicUsage>;
  /** Pause after each SSE event. Default 0 (each event still goes in its own write, one macrotask apart). */
  delayMs?: number;
  /** An event type the API might add one day, sent (with `{"type": <it>}`) after the `ping`. Default none. */
  unknownEvent?: string;
  /** Adds a tool_use block after the text block; `stop_reason` becomes `tool_use`. */
  toolUse?: { name: string; input: Record<string, unknown> };
  /**
   * When set, a request must carry it as `x-api-key` or as `authorization: Bearer` (the official SDK
   * 1.x sends the latter), else 401 authentication_error. Default: no check.
   */
  apiKey?: string;
  /** A request without `anthropic-version` gets 400, as the real API. Default true. */
  requireVersion?: boolean;
  /**
   * Events of the normal stream sent before a `stream:<type>` outcome's error event (0: the error is
   * the first event). Default 5: message_start, content_block_start, ping and two text deltas.
   */
  streamErrorAfter?: number;
  /** Models for `GET /models`. Default two Claude models. */
  models?: { id: string; display_name: string }[];
}

export type MessagesUpstream = UpstreamHandler & {
  /** Queues outcomes for the next requests (see the file comment). */
  script(...outcomes: MessagesOutcome[]): void;
  /** The resolved options; a test may change them between requests. */
  options: Required<Omit<MessagesUpstreamOptions, 'usage' | 'unknownEvent' | 'toolUse' | 'apiKey'>> &
    Pick<MessagesUpstreamOptions, 'unknownEvent' | 'toolUse' | 'apiKey'> & { usage: AnthropicUsage };
};

/** The error body Anthropic sends, with its `request-id` header. */
export function anthropicError(type: string, message: string, requestId: string) {
  return { type: 'error', error: { type, message }, request_id: requestId };
}

export function messagesUpstream(options: MessagesUpstreamOptions = {}): MessagesUpstream {
  const resolved: MessagesUpstream['options'] = {
    text: options.text ?? 'Hello from the mock Anthropic upstream',
    usage: { input_tokens: 12, output_tokens: 7, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, ...options.usage },
    delayMs: options.delayMs ?? 0,
    unknownEvent: options.unknownEvent,
    toolUse: options.toolUse,
    apiKey: options.apiKey,
    requireVersion: options.requireVersion ?? true,
    streamErrorAfter: options.streamErrorAfter ?? 5,
    models: options.models ?? [
      { id: 'claude-sonnet-4-5-20250929', display_name: 'Claude Sonnet 4.5' },
      { id: 'claude-haiku-4-5-20251001', display_name: 'Claude Haiku 4.5' },
    ],
  };
  const script = new OutcomeScript<MessagesOutcome>(OUTCOMES);
  let counter = 0;

  const handler: UpstreamHandler = async (req, res, request) => {
    const n = ++counter;
    const requestId = mockId('req_mock', n);
    const fail = (type: AnthropicErrorType, message: string = ANTHROPIC_ERRORS[type].message) =>
      sendJson(res, ANTHROPIC_ERRORS[type].status, anthropicError(type, message, requestId), {
        'request-id': requestId,
        ...(type === 'rate_limit_error' ? { 'retry-after': '1' } : {}),
        ...(type === 'overloaded_error' ? { 'x-should-retry': 'true' } : {}),
      });
    let outcome: MessagesOutcome;
    try {
      outcome = script.take(request);
    } catch (error) {
      return fail('api_error', (error as Error).message);
    }
    // A scripted status answers whatever the request; checks of key and version come after it.
    if (outcome !== 'ok' && !outcome.startsWith('stream:')) return fail(outcome as AnthropicErrorType);
    const { apiKey } = resolved;
    if (apiKey !== undefined && req.headers['x-api-key'] !== apiKey && req.headers.authorization !== `Bearer ${apiKey}`) return fail('authentication_error');
    if (resolved.requireVersion && !req.headers['anthropic-version']) return fail('invalid_request_error', 'anthropic-version: header is required');

    const { path } = route(request.url);
    const body = request.json ?? {};
    const headers = { 'request-id': requestId };
    if (req.method === 'POST' && path === '/messages') {
      const missing = ['model', 'max_tokens', 'messages'].find((field) => body[field] === undefined);
      if (missing) return fail('invalid_request_error', `${missing}: Field required`);
      const streamError = body.stream === true && outcome.startsWith('stream:') ? (outcome.slice(7) as AnthropicErrorType) : undefined;
      const message = messageOf(resolved, String(body.model), mockId('msg_mock', n), n);
      if (body.stream !== true) return sendJson(res, 200, message, headers);
      return streamMessage(openSse(res, headers, resolved.delayMs), resolved, message, streamError);
    }
    if (req.method === 'POST' && path === '/messages/count_tokens') {
      if (body.model === undefined || body.messages === undefined) return fail('invalid_request_error', 'messages: Field required');
      return sendJson(res, 200, { input_tokens: resolved.usage.input_tokens }, headers);
    }
    if (req.method === 'GET' && path === '/models') {
      const data = resolved.models.map(modelOf);
      return sendJson(res, 200, { data, has_more: false, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null }, headers);
    }
    const model = req.method === 'GET' && path.startsWith('/models/') ? resolved.models.find((m) => `/models/${m.id}` === path) : undefined;
    if (model) return sendJson(res, 200, modelOf(model), headers);
    return fail('not_found_error', 'Not Found');
  };
  return Object.assign(handler, { script: (...outcomes: MessagesOutcome[]) => script.push(...outcomes), options: resolved });
}

const modelOf = (model: { id: string; display_name: string }) => ({
  type: 'model',
  id: model.id,
  display_name: model.display_name,
  created_at: '2025-09-29T00:00:00Z',
  capabilities: null,
  deprecated_at: null,
  lifecycle: 'active',
  line: null,
  max_input_tokens: 200000,
  max_tokens: 64000,
});

function messageOf(options: MessagesUpstream['options'], model: string, id: string, n: number) {
  const content: Record<string, unknown>[] = [{ type: 'text', text: deltasOf(options.text).join('') }];
  if (options.toolUse) content.push({ type: 'tool_use', id: mockId('toolu_mock', n), name: options.toolUse.name, input: options.toolUse.input });
  const { usage } = options;
  // The fields of API version 2026-10-21 (what @anthropic-ai/sdk 1.x types), null when unused.
  return {
    id,
    type: 'message',
    role: 'assistant',
    model,
    content,
    container: null,
    diagnostics: null,
    stop_details: null,
    stop_reason: options.toolUse ? 'tool_use' : 'end_turn',
    stop_sequence: null,
    usage: {
      ...usage,
      cache_creation: { ephemeral_5m_input_tokens: usage.cache_creation_input_tokens, ephemeral_1h_input_tokens: 0 },
      inference_geo: null,
      output_tokens_details: null,
      server_tool_use: null,
      service_tier: 'standard',
      speed: null,
    },
  };
}

type Event = { event: string; data: { type: string } & Record<string, unknown> };

/** The real order: message_start, per block start/deltas/stop (a ping after the first start), message_delta, message_stop. */
function messageEvents(options: MessagesUpstream['options'], message: ReturnType<typeof messageOf>): Event[] {
  const events: Event['data'][] = [];
  const started = { ...message, content: [], stop_reason: null, stop_sequence: null, usage: { ...message.usage, output_tokens: 1 } };
  events.push({ type: 'message_start', message: started }, { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
  events.push({ type: 'ping' });
  if (options.unknownEvent) events.push({ type: options.unknownEvent });
  for (const text of deltasOf(options.text)) events.push({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } });
  events.push({ type: 'content_block_stop', index: 0 });
  const tool = message.content[1] as { id: string; name: string; input: unknown } | undefined;
  if (tool) {
    const json = JSON.stringify(tool.input);
    events.push({ type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: tool.id, name: tool.name, input: {} } });
    for (const partial_json of [json.slice(0, json.length >> 1), json.slice(json.length >> 1)]) {
      events.push({ type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json } });
    }
    events.push({ type: 'content_block_stop', index: 1 });
  }
  const { input_tokens, output_tokens, cache_creation_input_tokens, cache_read_input_tokens } = message.usage;
  events.push({
    type: 'message_delta',
    delta: { container: null, stop_details: null, stop_reason: message.stop_reason, stop_sequence: null },
    usage: { input_tokens, cache_creation_input_tokens, cache_read_input_tokens, output_tokens, output_tokens_details: null, server_tool_use: null },
  });
  events.push({ type: 'message_stop' });
  return events.map((data) => ({ event: data.type, data }));
}

async function streamMessage(sse: SseWriter, options: MessagesUpstream['options'], message: ReturnType<typeof messageOf>, streamError: AnthropicErrorType | undefined): Promise<void> {
  let events = messageEvents(options, message);
  if (streamError) {
    const error = { type: 'error', error: { type: streamError, message: ANTHROPIC_ERRORS[streamError].message } };
    events = [...events.slice(0, options.streamErrorAfter), { event: 'error', data: error }];
  }
  for (const { event, data } of events) if (!(await sse.send(event, data))) return;
  sse.end();
}
