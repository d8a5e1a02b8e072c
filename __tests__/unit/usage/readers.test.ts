/** usageReaders: one entry per API, each handing out fresh taps of the right kind. */
import { usageReaders } from '../../../lib/usage/readers.js';
import { chatJson, chatStream, embeddingsJson, feed, messagesJson, messagesStream, responsesJson, responsesStream } from './fixtures.js';

const once = (text: string) => [Buffer.from(text)];

test('every API has a JSON and a stream reader, and each read gives that API\u2019s usage', () => {
  expect(Object.keys(usageReaders).sort()).toEqual(['chat', 'completions', 'embeddings', 'messages', 'responses']);
  expect(feed(usageReaders.chat.json(), once(chatJson())).result()?.total_tokens).toBe(29);
  expect(feed(usageReaders.chat.stream(), once(chatStream(3, true))).result()?.total_tokens).toBe(29);
  expect(feed(usageReaders.completions.json(), once(chatJson())).result()?.total_tokens).toBe(29);
  expect(feed(usageReaders.completions.stream(), once(chatStream(3, true))).result()?.total_tokens).toBe(29);
  expect(feed(usageReaders.embeddings.json(), once(embeddingsJson(1000))).result()).toEqual({ input_tokens: 8, output_tokens: 0, total_tokens: 8 });
  expect(feed(usageReaders.responses.json(), once(responsesJson())).result()?.total_tokens).toBe(123);
  expect(feed(usageReaders.responses.stream(), once(responsesStream())).result()?.total_tokens).toBe(123);
  expect(feed(usageReaders.messages.json(), once(messagesJson())).result()?.total_tokens).toBe(18);
  expect(feed(usageReaders.messages.stream(), once(messagesStream())).result()?.total_tokens).toBe(40);
});

test('the wrong reader finds nothing: field names are per API', () => {
  expect(feed(usageReaders.responses.json(), once(chatJson())).result()).toBeUndefined();
  expect(feed(usageReaders.chat.stream(), once(messagesStream())).result()).toBeUndefined();
});

test('embeddings have no streams: their stream reader reports none', () => {
  expect(feed(usageReaders.embeddings.stream(), once(chatStream(3, true))).result()).toBeUndefined();
});

test('taps are fresh per call: two answers do not share state', () => {
  const a = usageReaders.chat.stream();
  const b = usageReaders.chat.stream();
  a.push(Buffer.from(chatStream(2, true)));
  expect(a.result()?.total_tokens).toBe(29);
  expect(b.result()).toBeUndefined();
  expect(usageReaders.chat.json()).not.toBe(usageReaders.chat.json());
});
