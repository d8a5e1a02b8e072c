/** What the parent and the children agree on. */

/** Events per mock stream (one upstream write each). */
export const STREAM_EVENTS = 20;

/** The model every bench request asks for; the router maps it to itself (no rewrite). */
export const MODEL = 'bench-model';

export const PATH = '/v1/chat/completions';
export const MESSAGES_PATH = '/v1/messages';
export const RESPONSES_PATH = '/v1/responses';

const messages = [
  { role: 'system', content: 'You are a helpful assistant.' },
  { role: 'user', content: 'Explain in two sentences what a reverse proxy does.' },
];

/** ~200 B request bodies, as a chat client sends them. */
export const SMALL_BODY = JSON.stringify({ model: MODEL, messages, temperature: 0.2 });
export const STREAM_BODY = JSON.stringify({ model: MODEL, messages, temperature: 0.2, stream: true });

/** A 100 KB request body: one long user message (a pasted document). */
export const LARGE_BODY = (() => {
  const shell = JSON.stringify({ model: MODEL, messages: [messages[0], { role: 'user', content: '' }], temperature: 0.2 });
  const filler = 'lorem ipsum dolor sit amet '.repeat(Math.ceil(102_400 / 27)).slice(0, 102_400 - shell.length);
  return JSON.stringify({ model: MODEL, messages: [messages[0], { role: 'user', content: filler }], temperature: 0.2 });
})();

/** A streamed Anthropic Messages request, as Claude Code or the Anthropic SDK sends it (shorter). */
export const MESSAGES_STREAM_BODY = JSON.stringify({ model: MODEL, max_tokens: 1024, system: messages[0].content, messages: [messages[1]], temperature: 0.2, stream: true });
/** A streamed OpenAI Responses request, as the Vercel AI SDK's default OpenAI model sends it. */
export const RESPONSES_STREAM_BODY = JSON.stringify({
  model: MODEL,
  instructions: messages[0].content,
  input: [{ role: 'user', content: [{ type: 'input_text', text: messages[1].content }] }],
  temperature: 0.2,
  stream: true,
});

/** The streaming scenario per API: where it posts, what, and the key its results go under. */
export const STREAM_APIS = {
  chat: { path: PATH, body: STREAM_BODY, scenario: 'stream' },
  messages: { path: MESSAGES_PATH, body: MESSAGES_STREAM_BODY, scenario: 'stream-messages' },
  responses: { path: RESPONSES_PATH, body: RESPONSES_STREAM_BODY, scenario: 'stream-responses' },
};

/** The loads a side tool can pick with `--body`: what it posts, and where (default the chat path). */
export const LOAD_BODIES = {
  small: { body: SMALL_BODY },
  large: { body: LARGE_BODY },
  stream: { body: STREAM_BODY },
  'stream-messages': STREAM_APIS.messages,
  'stream-responses': STREAM_APIS.responses,
};
