/** Answers shaped like the real APIs' (JSON bodies and SSE streams), and ways to cut them into chunks. */

export const CHAT_USAGE = {
  prompt_tokens: 19,
  completion_tokens: 10,
  total_tokens: 29,
  prompt_tokens_details: { cached_tokens: 6, audio_tokens: 0 },
  completion_tokens_details: { reasoning_tokens: 2, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
};

/** A Chat Completions answer of about 630 bytes, usage near the end. */
export function chatJson(content = 'Hello! How can I assist you today? "usage": {"prompt_tokens": 999} \\"usage\\":'): string {
  return JSON.stringify({
    id: 'chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT',
    object: 'chat.completion',
    created: 1741569952,
    model: 'gpt-4.1-2025-04-14',
    choices: [{ index: 0, message: { role: 'assistant', content, refusal: null, annotations: [] }, logprobs: null, finish_reason: 'stop' }],
    usage: CHAT_USAGE,
    service_tier: 'default',
    system_fingerprint: 'fp_44709d6fcb',
  });
}

export const RESPONSES_USAGE = {
  input_tokens: 36,
  input_tokens_details: { cached_tokens: 4 },
  output_tokens: 87,
  output_tokens_details: { reasoning_tokens: 64 },
  total_tokens: 123,
};

export function responsesJson(metadata: Record<string, string> = { customer: 'acme' }): string {
  return JSON.stringify({
    id: 'resp_67ccd2bed1ec8190b14f964abc054267',
    object: 'response',
    created_at: 1741476542,
    status: 'completed',
    error: null,
    instructions: null,
    model: 'gpt-4.1-2025-04-14',
    output: [{ type: 'message', id: 'msg_1', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'In a peaceful grove…', annotations: [] }] }],
    parallel_tool_calls: true,
    reasoning: { effort: null, summary: null },
    tools: [{ type: 'function', name: 'lookup', parameters: { type: 'object', properties: { usage: { type: 'string' } } } }],
    usage: RESPONSES_USAGE,
    user: null,
    metadata,
  });
}

export const MESSAGES_USAGE = { input_tokens: 12, cache_creation_input_tokens: 0, cache_read_input_tokens: 4, output_tokens: 6, service_tier: 'standard' };

export function messagesJson(): string {
  return JSON.stringify({
    id: 'msg_013Zva2CMHLNnXjNJJKqJ2EF',
    type: 'message',
    role: 'assistant',
    model: 'claude-sonnet-4-5',
    content: [{ type: 'text', text: 'Hi! My name is Claude.' }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: MESSAGES_USAGE,
  });
}

/** An embeddings answer of about `bytes` bytes (vectors of numbers), usage last unless `usageFirst`. */
export function embeddingsJson(bytes: number, usageFirst = false): string {
  const vector = Array.from({ length: 1536 }, (_, i) => Number(((i % 97) / 97 - 0.5).toFixed(9)));
  const one = JSON.stringify({ object: 'embedding', index: 0, embedding: vector });
  const count = Math.max(1, Math.round(bytes / (one.length + 1)));
  const data = Array.from({ length: count }, (_, index) => ({ object: 'embedding', index, embedding: vector }));
  const usage = { prompt_tokens: 8 * count, total_tokens: 8 * count };
  return JSON.stringify(usageFirst ? { usage, object: 'list', data, model: 'text-embedding-3-small' } : { object: 'list', data, model: 'text-embedding-3-small', usage });
}

export function sse(events: Array<{ event?: string; data: unknown }>): string {
  return events.map(({ event, data }) => `${event ? `event: ${event}\n` : ''}data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`).join('');
}

/** A chat stream of `deltas` content chunks; with include_usage every chunk says `"usage":null` and a last one carries it. */
export function chatStream(deltas: number, includeUsage: boolean): string {
  const base = { id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o-mini', system_fingerprint: 'fp_1' };
  const events: Array<{ data: unknown }> = [];
  for (let i = 0; i < deltas; i++) {
    const chunk = { ...base, choices: [{ index: 0, delta: { content: `token ${i} of a fairly ordinary answer, padded to look real` }, logprobs: null, finish_reason: null }] };
    events.push({ data: includeUsage ? { ...chunk, usage: null } : chunk });
  }
  if (includeUsage) events.push({ data: { ...base, choices: [], usage: CHAT_USAGE } });
  events.push({ data: '[DONE]' });
  return sse(events);
}

export function responsesStream(end: 'response.completed' | 'response.incomplete' | 'response.failed' = 'response.completed'): string {
  const response = { id: 'resp_1', object: 'response', status: 'in_progress', output: [], usage: null };
  return sse([
    { event: 'response.created', data: { type: 'response.created', sequence_number: 0, response } },
    { event: 'response.in_progress', data: { type: 'response.in_progress', sequence_number: 1, response } },
    { event: 'response.output_text.delta', data: { type: 'response.output_text.delta', sequence_number: 2, delta: 'the "input_tokens": 5 text' } },
    { event: end, data: { type: end, sequence_number: 3, response: { ...response, status: end.slice(9), usage: RESPONSES_USAGE } } },
  ]);
}

export function messagesStream(delta: Record<string, unknown> = { output_tokens: 15 }): string {
  return sse([
    {
      event: 'message_start',
      data: {
        type: 'message_start',
        message: { id: 'msg_1', type: 'message', role: 'assistant', content: [], model: 'claude-sonnet-4-5', stop_reason: null, usage: { input_tokens: 25, cache_creation_input_tokens: 0, cache_read_input_tokens: 7, output_tokens: 1 } },
      },
    },
    { event: 'content_block_start', data: { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } } },
    { event: 'ping', data: { type: 'ping' } },
    { event: 'content_block_delta', data: { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hello' } } },
    { event: 'content_block_stop', data: { type: 'content_block_stop', index: 0 } },
    { event: 'message_delta', data: { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: delta } },
    { event: 'message_stop', data: { type: 'message_stop' } },
  ]);
}

/** Whole, 1-byte pieces (when short enough), and seeded random sizes up to `maxPiece`. */
export function cuttings(bytes: Buffer, maxPiece = 64, rounds = 5): Buffer[][] {
  const ways: Buffer[][] = [[bytes]];
  if (bytes.length <= 200_000) ways.push([...bytes].map((b) => Buffer.from([b])));
  let seed = 11;
  for (let round = 0; round < rounds; round++) {
    const pieces: Buffer[] = [];
    for (let at = 0; at < bytes.length; ) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      const size = 1 + (seed % maxPiece);
      pieces.push(bytes.subarray(at, at + size));
      at += size;
    }
    ways.push(pieces);
  }
  return ways;
}

export function feed<T extends { push(chunk: Buffer): void }>(tap: T, pieces: readonly Buffer[]): T {
  for (const piece of pieces) tap.push(piece);
  return tap;
}
