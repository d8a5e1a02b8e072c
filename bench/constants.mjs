/** What the parent and the children agree on. */

/** Events per mock stream (one upstream write each). */
export const STREAM_EVENTS = 20;

/** The model every bench request asks for; the router maps it to itself (no rewrite). */
export const MODEL = 'bench-model';

export const PATH = '/v1/chat/completions';

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
