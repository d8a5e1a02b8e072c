/**
 * SseUsageTap with each API's rule: usage read from real-shaped streams cut anywhere, and only the
 * events that may carry usage are parsed.
 */
import { jest } from '@jest/globals';
import { chatStreamUsage, messagesStreamUsage, responsesStreamUsage, SseUsageTap } from '../../../lib/usage/stream-usage-tap.js';
import type { StreamUsageRule } from '../../../lib/usage/stream-usage-tap.js';
import type { Usage } from '../../../lib/usage/types.js';
import { chatStream, cuttings, feed, messagesStream, responsesStream, sse } from './fixtures.js';

function expectEverywhere(text: string, rule: StreamUsageRule, expected: Usage | undefined): void {
  for (const pieces of cuttings(Buffer.from(text), 300)) expect(feed(new SseUsageTap(rule), pieces).result()).toEqual(expected);
}

afterEach(() => jest.restoreAllMocks());

describe('chat and completions streams', () => {
  const usage: Usage = { input_tokens: 19, output_tokens: 10, total_tokens: 29, cached_input_tokens: 6, reasoning_tokens: 2 };

  test('with include_usage: the final chunk\u2019s usage, however the stream is cut', () => {
    expectEverywhere(chatStream(20, true), chatStreamUsage, usage);
  });

  test('without include_usage: none', () => {
    expectEverywhere(chatStream(20, false), chatStreamUsage, undefined);
  });

  test('only the chunk carrying usage is parsed, not the 20 with "usage":null', () => {
    const parse = jest.spyOn(JSON, 'parse');
    const text = chatStream(20, true);
    expect(text.split('"usage":null').length - 1).toBe(20);
    expect(feed(new SseUsageTap(chatStreamUsage), [Buffer.from(text)]).result()).toEqual(usage);
    expect(parse).toHaveBeenCalledTimes(1);
  });

  test('when usage comes in every chunk (continuous usage), the last one wins', () => {
    const text = sse([1, 2, 3].map((n) => ({ data: { choices: [], usage: { prompt_tokens: 5, completion_tokens: n, total_tokens: 5 + n } } })));
    expectEverywhere(text, chatStreamUsage, { input_tokens: 5, output_tokens: 3, total_tokens: 8 });
  });

  test('an error event or broken JSON in a marked event is passed over', () => {
    const text = `data: {"prompt_tokens": oops\n\n${chatStream(2, true)}data: {"error":{"message":"prompt_tokens"}}\n\n`;
    expectEverywhere(text, chatStreamUsage, usage);
  });
});

describe('Responses streams', () => {
  const usage: Usage = { input_tokens: 36, output_tokens: 87, total_tokens: 123, cached_input_tokens: 4, reasoning_tokens: 64 };

  test.each(['response.completed', 'response.incomplete', 'response.failed'] as const)('%s carries the usage', (end) => {
    expectEverywhere(responsesStream(end), responsesStreamUsage, usage);
  });

  test('a stream cut before its final event has none', () => {
    const text = responsesStream();
    expectEverywhere(text.slice(0, text.lastIndexOf('event: response.completed')), responsesStreamUsage, undefined);
  });

  test('an event of another type with a usage-like object does not count', () => {
    expectEverywhere(sse([{ data: { type: 'response.in_progress', response: { usage: { input_tokens: 1, output_tokens: 1 } } } }]), responsesStreamUsage, undefined);
  });

  test('the type may come from the event field alone', () => {
    expectEverywhere(sse([{ event: 'response.completed', data: { response: { usage: { input_tokens: 1, output_tokens: 2, total_tokens: 3 } } } }]), responsesStreamUsage, { input_tokens: 1, output_tokens: 2, total_tokens: 3 });
  });
});

describe('Anthropic Messages streams', () => {
  test('message_start then message_delta: later counts win field by field', () => {
    expectEverywhere(messagesStream(), messagesStreamUsage, { input_tokens: 25, output_tokens: 15, total_tokens: 40, cached_input_tokens: 7 });
  });

  test('a delta that restates input and cache counts replaces them; a null does not erase one', () => {
    expectEverywhere(messagesStream({ input_tokens: 30, cache_read_input_tokens: null, output_tokens: 20 }), messagesStreamUsage, {
      input_tokens: 30,
      output_tokens: 20,
      total_tokens: 50,
      cached_input_tokens: 7,
    });
  });

  test('only message_start and message_delta are parsed', () => {
    const parse = jest.spyOn(JSON, 'parse');
    feed(new SseUsageTap(messagesStreamUsage), [Buffer.from(messagesStream())]);
    expect(parse).toHaveBeenCalledTimes(2);
  });

  test('a stream cut after message_start reports what it had', () => {
    const text = messagesStream();
    expectEverywhere(text.slice(0, text.indexOf('event: content_block_start')), messagesStreamUsage, { input_tokens: 25, output_tokens: 1, total_tokens: 26, cached_input_tokens: 7 });
  });
});
