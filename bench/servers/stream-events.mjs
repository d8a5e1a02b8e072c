/**
 * The mock upstream's Anthropic Messages and OpenAI Responses streams: STREAM_EVENTS events each,
 * shaped and sized as the real APIs send them, every event its own buffer (one write each).
 */
import { STREAM_EVENTS } from '../constants.mjs';

const CREATED = 1_700_000_000;
const MODEL = 'bench-model-2024-08-06';
const sse = (type, data) => Buffer.from(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);

/** message_start, content_block_start, ping, the text deltas, content_block_stop, message_delta, message_stop. */
function messagesEvents() {
  const usage = { input_tokens: 24, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 1, service_tier: 'standard' };
  const message = { id: 'msg_bench000000000000000000', type: 'message', role: 'assistant', model: MODEL, content: [], stop_reason: null, stop_sequence: null, usage };
  const head = [sse('message_start', { message }), sse('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }), sse('ping', {})];
  const tail = [
    sse('content_block_stop', { index: 0 }),
    sse('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 41 } }),
    sse('message_stop', {}),
  ];
  const deltas = Array.from({ length: STREAM_EVENTS - head.length - tail.length }, (_, i) => sse('content_block_delta', { index: 0, delta: { type: 'text_delta', text: ` word${i}` } }));
  return [...head, ...deltas, ...tail];
}

/** created, in_progress, output_item.added, content_part.added, the text deltas, the four closing events. */
function responsesEvents() {
  const id = 'resp_bench0000000000000000000000';
  const itemId = 'msg_bench0000000000000000000000';
  const response = (status, output, usage) => ({
    id,
    object: 'response',
    created_at: CREATED,
    status,
    background: false,
    error: null,
    incomplete_details: null,
    instructions: 'You are a helpful assistant.',
    max_output_tokens: null,
    model: MODEL,
    output,
    parallel_tool_calls: true,
    previous_response_id: null,
    reasoning: { effort: null, summary: null },
    service_tier: 'default',
    store: true,
    temperature: 0.2,
    text: { format: { type: 'text' }, verbosity: 'medium' },
    tool_choice: 'auto',
    tools: [],
    top_p: 1,
    truncation: 'disabled',
    usage,
    user: null,
    metadata: {},
  });
  const words = [];
  let n = 0;
  const events = [];
  const push = (type, data) => events.push({ type, data });
  push('response.created', { response: response('in_progress', [], null) });
  push('response.in_progress', { response: response('in_progress', [], null) });
  push('response.output_item.added', { output_index: 0, item: { id: itemId, type: 'message', status: 'in_progress', content: [], role: 'assistant' } });
  push('response.content_part.added', { item_id: itemId, output_index: 0, content_index: 0, part: { type: 'output_text', annotations: [], text: '' } });
  const closing = 4;
  while (events.length < STREAM_EVENTS - closing) {
    const delta = ` word${n++}`;
    words.push(delta);
    push('response.output_text.delta', { item_id: itemId, output_index: 0, content_index: 0, delta, logprobs: [], obfuscation: 'bEnch' });
  }
  const text = words.join('');
  const part = { type: 'output_text', annotations: [], logprobs: [], text };
  const item = { id: itemId, type: 'message', status: 'completed', content: [part], role: 'assistant' };
  push('response.output_text.done', { item_id: itemId, output_index: 0, content_index: 0, text, logprobs: [] });
  push('response.content_part.done', { item_id: itemId, output_index: 0, content_index: 0, part });
  push('response.output_item.done', { output_index: 0, item });
  const usage = { input_tokens: 24, input_tokens_details: { cached_tokens: 0 }, output_tokens: 41, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 65 };
  push('response.completed', { response: response('completed', [item], usage) });
  // Real streams number their events.
  return events.map(({ type, data }, i) => sse(type, { ...data, sequence_number: i }));
}

export const MESSAGES_EVENTS = messagesEvents();
export const RESPONSES_EVENTS = responsesEvents();
