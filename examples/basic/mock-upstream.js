/**
 * A tiny OpenAI-compatible upstream for the example: deterministic answers, no network, no key.
 * Chat completions (JSON, or SSE when `stream: true`), legacy completions and embeddings.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';

export const MOCK_API_KEY = 'sk-mock-upstream';
const CREATED = 1_700_000_000;

/** The reply the mock gives to a conversation: the same input always gets the same words. */
export function mockReply(messages) {
  const last = Array.isArray(messages) ? messages.filter((m) => m && m.role === 'user').pop() : undefined;
  const said = typeof last?.content === 'string' ? last.content : 'nothing';
  return `You said "${said}". This is a deterministic reply from the mock upstream.`;
}

const words = (text) => text.split(/\s+/).filter(Boolean).length;

function usageOf(body, reply) {
  const prompt = JSON.stringify(body.messages ?? body.prompt ?? body.input ?? '');
  const prompt_tokens = words(prompt.replace(/[{}[\]",:]/g, ' '));
  const completion_tokens = reply === undefined ? 0 : words(reply);
  return { prompt_tokens, completion_tokens, total_tokens: prompt_tokens + completion_tokens };
}

function sendJson(res, status, value) {
  const text = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

const apiError = (message, type, code) => ({ error: { message, type, param: null, code } });

/** Streams `reply` as `chat.completion.chunk` events, one word each, then `data: [DONE]`. */
async function streamChat(res, body, reply, chunkDelayMs) {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const chunk = (delta, finish_reason = null, extra = {}) =>
    `data: ${JSON.stringify({ id: 'chatcmpl-mock', object: 'chat.completion.chunk', created: CREATED, model: body.model, choices: [{ index: 0, delta, finish_reason }], ...extra })}\n\n`;
  const pieces = reply.split(/(?<= )/);
  let gone = false;
  res.once('close', () => (gone = !res.writableFinished)); // the proxy went away: stop writing
  res.write(chunk({ role: 'assistant', content: '' }));
  for (const piece of pieces) {
    if (gone) return;
    await new Promise((resolve) => setTimeout(resolve, chunkDelayMs));
    res.write(chunk({ content: piece }));
  }
  res.write(chunk({}, 'stop'));
  if (body.stream_options?.include_usage === true) {
    res.write(`data: ${JSON.stringify({ id: 'chatcmpl-mock', object: 'chat.completion.chunk', created: CREATED, model: body.model, choices: [], usage: usageOf(body, reply) })}\n\n`);
  }
  res.end('data: [DONE]\n\n');
}

/** A deterministic unit vector of `dimensions` numbers for `text`. */
function embed(text, dimensions = 8) {
  const bytes = createHash('sha256').update(String(text)).digest();
  const raw = Array.from({ length: dimensions }, (_, i) => bytes[i] / 127.5 - 1);
  const norm = Math.hypot(...raw) || 1;
  return raw.map((x) => Number((x / norm).toFixed(6)));
}

function handle(req, res, body, chunkDelayMs) {
  if (req.headers.authorization !== `Bearer ${MOCK_API_KEY}`) {
    return sendJson(res, 401, apiError('Incorrect API key provided', 'invalid_request_error', 'invalid_api_key'));
  }
  if (req.method !== 'POST') {
    return sendJson(res, 405, apiError('Use POST', 'invalid_request_error', 'method_not_allowed'));
  }
  switch (req.url) {
    case '/v1/chat/completions': {
      const reply = mockReply(body.messages);
      if (body.stream === true) return streamChat(res, body, reply, chunkDelayMs);
      return sendJson(res, 200, {
        id: 'chatcmpl-mock',
        object: 'chat.completion',
        created: CREATED,
        model: body.model,
        choices: [{ index: 0, message: { role: 'assistant', content: reply }, finish_reason: 'stop' }],
        usage: usageOf(body, reply),
      });
    }
    case '/v1/completions': {
      const text = `${String(body.prompt ?? '')} ... and that is all the mock upstream has to say.`;
      return sendJson(res, 200, { id: 'cmpl-mock', object: 'text_completion', created: CREATED, model: body.model, choices: [{ index: 0, text, finish_reason: 'stop', logprobs: null }], usage: usageOf(body, text) });
    }
    case '/v1/embeddings': {
      const inputs = Array.isArray(body.input) ? body.input : [body.input];
      const data = inputs.map((input, index) => ({ object: 'embedding', index, embedding: embed(input) }));
      return sendJson(res, 200, { object: 'list', data, model: body.model, usage: usageOf(body) });
    }
    default:
      return sendJson(res, 404, apiError(`Unknown path ${req.url}`, 'invalid_request_error', 'unknown_url'));
  }
}

/**
 * Starts the mock on 127.0.0.1 (a free port unless given).
 * @returns {Promise<{ baseUrl: string, close: () => Promise<void> }>}
 */
export async function startMockUpstream({ port = 0, chunkDelayMs = 30 } = {}) {
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      let body;
      try {
        body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
      } catch {
        return sendJson(res, 400, apiError('We could not parse the JSON body of your request.', 'invalid_request_error', null));
      }
      Promise.resolve(handle(req, res, body, chunkDelayMs)).catch(() => res.destroy());
    });
  });
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    baseUrl: `http://127.0.0.1:${server.address().port}/v1`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
