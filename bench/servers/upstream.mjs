/**
 * Mock OpenAI-compatible upstream. POST any path: a ~630 B chat completion, or, when the body
 * asks for `"stream":true`, 20 SSE events (one write each): a chat completion stream, or an
 * Anthropic Messages stream on `…/messages`, an OpenAI Responses stream on `…/responses`. Timing comes over IPC (`configure`):
 * `firstMs` before the first event, `gapMs` between events (0 = one event per event-loop turn),
 * `hold` = stop after the first event until `release`.
 */
import { STREAM_EVENTS } from '../constants.mjs';
import { serve } from './child.mjs';
import { MESSAGES_EVENTS, RESPONSES_EVENTS } from './stream-events.mjs';

const CREATED = 1_700_000_000;

const COMPLETION = Buffer.from(
  JSON.stringify({
    id: 'chatcmpl-bench0000000000000000000000',
    object: 'chat.completion',
    created: CREATED,
    model: 'bench-model-2024-08-06',
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content:
            'A reverse proxy forwards each request to an upstream server and passes the answer back, ' +
            'adding as little latency and CPU as it can. This reply is padded to a typical size.',
          refusal: null,
        },
        logprobs: null,
        finish_reason: 'stop',
      },
    ],
    usage: { prompt_tokens: 24, completion_tokens: 41, total_tokens: 65, prompt_tokens_details: { cached_tokens: 0 } },
    system_fingerprint: 'fp_bench00000',
  }),
);



function chunkEvent(index) {
  const last = index === STREAM_EVENTS - 2;
  const chunk = {
    id: 'chatcmpl-bench0000000000000000000000',
    object: 'chat.completion.chunk',
    created: CREATED,
    model: 'bench-model-2024-08-06',
    choices: [{ index: 0, delta: last ? {} : { content: ` word${index}` }, logprobs: null, finish_reason: last ? 'stop' : null }],
  };
  return `data: ${JSON.stringify(chunk)}\n\n`;
}

// 18 content deltas, the finish_reason delta, then [DONE]: 20 events, one write each.
const EVENTS = Array.from({ length: STREAM_EVENTS }, (_, i) => Buffer.from(i === STREAM_EVENTS - 1 ? 'data: [DONE]\n\n' : chunkEvent(i)));
const STREAM_FLAG = Buffer.from('"stream":true');

let config = { firstMs: 0, gapMs: 0, hold: false };
const held = new Set();

function stream(res, events) {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-request-id': 'upstream-req' });
  res.flushHeaders(); // as real providers do: headers at once, tokens later
  const { firstMs, gapMs, hold } = config;
  let index = 0;
  let timer;
  const next = () => {
    if (res.destroyed) return;
    res.write(events[index]);
    index += 1;
    if (index === STREAM_EVENTS) {
      res.end();
      return;
    }
    if (hold && index === 1) {
      held.add(next);
      return;
    }
    timer = gapMs > 0 ? setTimeout(next, gapMs) : setImmediate(next);
  };
  res.once('close', () => {
    clearTimeout(timer);
    clearImmediate(timer);
    held.delete(next);
  });
  timer = firstMs > 0 ? setTimeout(next, firstMs) : setImmediate(next);
}

serve(
  (req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
      if (body.includes(STREAM_FLAG)) {
        const url = req.url ?? '';
        stream(res, url.endsWith('/messages') ? MESSAGES_EVENTS : url.endsWith('/responses') ? RESPONSES_EVENTS : EVENTS);
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': COMPLETION.length, 'x-request-id': 'upstream-req' });
      res.end(COMPLETION);
    });
  },
  (message) => {
    if (message.type === 'configure') {
      config = { firstMs: message.firstMs ?? 0, gapMs: message.gapMs ?? 0, hold: message.hold ?? false };
      process.send({ type: 'configured', id: message.id });
    } else if (message.type === 'release') {
      const waiting = [...held];
      held.clear();
      for (const next of waiting) next();
      process.send({ type: 'released', id: message.id, count: waiting.length });
    }
  },
);
