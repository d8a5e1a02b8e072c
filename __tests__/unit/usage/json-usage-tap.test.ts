/**
 * JsonUsageTap: the top-level usage of JSON answers read from their chunks, wherever the body is
 * cut, with usage first or last, nested usage keys and look-alikes inside strings, huge bodies and
 * bodies without usage. A generator of random documents checks it against a full JSON.parse.
 */
import { JsonUsageTap } from '../../../lib/usage/json-usage-tap.js';
import type { JsonUsageTapOptions } from '../../../lib/usage/json-usage-tap.js';
import { usageFromChat, usageFromEmbeddings, usageFromMessages, usageFromResponses } from '../../../lib/usage/normalise.js';
import type { Usage, UsageNormaliser } from '../../../lib/usage/types.js';
import { chatJson, cuttings, embeddingsJson, feed, messagesJson, responsesJson } from './fixtures.js';

function read(body: string | Buffer, pieces?: Buffer[], normalise: UsageNormaliser = usageFromChat, options?: JsonUsageTapOptions): Usage | undefined {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  return feed(new JsonUsageTap(normalise, options), pieces ?? [bytes]).result();
}

function expectEverywhere(body: string, normalise: UsageNormaliser, expected: Usage | undefined, options?: JsonUsageTapOptions): void {
  const bytes = Buffer.from(body);
  for (const pieces of cuttings(bytes)) expect(read(bytes, pieces, normalise, options)).toEqual(expected);
}

const CHAT: Usage = { input_tokens: 19, output_tokens: 10, total_tokens: 29, cached_input_tokens: 6, reasoning_tokens: 2 };

describe('JsonUsageTap on real-shaped answers', () => {
  test('a ~630 B chat answer, however it is cut (look-alikes inside the content are ignored)', () => {
    const body = chatJson();
    expect(body.length).toBeGreaterThan(550);
    expect(body).toContain('\\"usage\\": {\\"prompt_tokens\\": 999}');
    expectEverywhere(body, usageFromChat, CHAT);
  });

  test('pretty-printed with whitespace around the colon', () => {
    expectEverywhere(JSON.stringify(JSON.parse(chatJson()), null, 2).replace(/"usage":/, '"usage" \n\t:'), usageFromChat, CHAT);
  });

  test('Responses answer: usage followed by user and metadata, a nested "usage" in a tool schema', () => {
    expectEverywhere(responsesJson(), usageFromResponses, { input_tokens: 36, output_tokens: 87, total_tokens: 123, cached_input_tokens: 4, reasoning_tokens: 64 });
  });

  test('Responses answer with 9 KB of metadata after the usage still fits the default tail', () => {
    const metadata = Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`key${i}`.padEnd(64, 'k'), 'v'.repeat(512)]));
    const body = responsesJson(metadata).replace('"output":[', `"output":[${'"pad",'.repeat(8_000)}`);
    expect(body.length).toBeGreaterThan(50_000);
    expect(body.length - body.indexOf('"usage"')).toBeGreaterThan(9_000);
    expect(read(body, undefined, usageFromResponses)?.total_tokens).toBe(123);
  });

  test('Anthropic message', () => {
    expectEverywhere(messagesJson(), usageFromMessages, { input_tokens: 12, output_tokens: 6, total_tokens: 18, cached_input_tokens: 4 });
  });
});

describe('JsonUsageTap: where usage sits', () => {
  test('usage first, then a nested usage later: the top-level one wins', () => {
    const body = '{"usage":{"prompt_tokens":5,"completion_tokens":1},"data":[{"usage":{"prompt_tokens":1,"completion_tokens":1}}]}';
    expectEverywhere(body, usageFromChat, { input_tokens: 5, output_tokens: 1, total_tokens: 6 });
  });

  test('nested usage only: none', () => {
    expectEverywhere('{"data":[{"usage":{"prompt_tokens":1,"completion_tokens":1}}],"meta":{"usage":{"prompt_tokens":2}}}', usageFromChat, undefined);
  });

  test('a key that merely ends in usage, or a usage string value, is not usage', () => {
    expectEverywhere('{"total_usage":{"prompt_tokens":1},"x":"usage","y":["usage"],"z":{"k":"usage"}}', usageFromChat, undefined);
    expectEverywhere('{"usage":{"prompt_tokens":2,"completion_tokens":1},"x":"usage","y":["usage"]}', usageFromChat, { input_tokens: 2, output_tokens: 1, total_tokens: 3 });
  });

  test('a key holding an escaped quote before usage is not the usage key', () => {
    expectEverywhere('{"a \\"usage":{"prompt_tokens":1,"completion_tokens":1}}', usageFromChat, undefined);
  });

  test('strings ending in backslashes do not confuse the string skipping', () => {
    const body = '{"a":"\\\\","b":"x\\\\\\"usage\\\\\\":{","usage":{"prompt_tokens":3,"completion_tokens":4,"note":"}\\\\"},"c":"\\\\\\\\"}';
    expect(JSON.parse(body).usage.prompt_tokens).toBe(3);
    expectEverywhere(body, usageFromChat, { input_tokens: 3, output_tokens: 4, total_tokens: 7 });
  });

  test('usage null, usage a number, no usage, empty body, not JSON, a cut-off usage object', () => {
    for (const body of ['{"usage":null}', '{"usage":3}', '{"id":"x"}', '', '<html>502 Bad Gateway</html>', '{"usage":{"prompt_tokens":3,', '[{"usage":{"prompt_tokens":1}}]']) {
      expectEverywhere(body, usageFromChat, undefined);
    }
  });

  test('a usage that is not an object does not borrow the object of a neighbouring key', () => {
    for (const body of ['{"usage":3,"other":{"prompt_tokens":1}}', '{"usage":"x" , "other":{"prompt_tokens":1}}', '{"usage":[{"prompt_tokens":1}]}', '{"other":{"prompt_tokens":1},"usage":null}']) {
      expectEverywhere(body, usageFromChat, undefined);
    }
  });

  test('duplicate top-level keys: the last wins, as JSON.parse has it', () => {
    expectEverywhere('{"usage":{"prompt_tokens":1},"usage":{"prompt_tokens":2}}', usageFromChat, { input_tokens: 2, output_tokens: 0, total_tokens: 2 });
  });
});

describe('JsonUsageTap on bodies larger than head + tail', () => {
  const small: JsonUsageTapOptions = { headBytes: 64, tailBytes: 64 };
  const filler = `"data":[${Array.from({ length: 60 }, (_, i) => `{"i":${i},"usage":{"prompt_tokens":${i}}}`).join(',')}]`;

  test('usage at the start is found from the head, at the end from the tail', () => {
    expectEverywhere(`{"usage":{"prompt_tokens":7},${filler}}`, usageFromChat, { input_tokens: 7, output_tokens: 0, total_tokens: 7 }, small);
    expectEverywhere(`{${filler},"usage":{"prompt_tokens":8}}`, usageFromChat, { input_tokens: 8, output_tokens: 0, total_tokens: 8 }, small);
  });

  test('usage only in the middle of such a body is not found (the documented limit)', () => {
    expectEverywhere(`{${filler},"usage":{"prompt_tokens":9},${filler.replace('"data"', '"more"')}}`, usageFromChat, undefined, small);
  });

  test('a 5 MB embeddings answer, usage last, in 64 KiB chunks and in random small pieces', () => {
    const body = Buffer.from(embeddingsJson(5_000_000));
    expect(body.length).toBeGreaterThan(4_900_000);
    const expected = usageFromEmbeddings(JSON.parse(body.toString()).usage);
    const chunks: Buffer[] = [];
    for (let at = 0; at < body.length; at += 65_536) chunks.push(body.subarray(at, at + 65_536));
    expect(read(body, chunks, usageFromEmbeddings)).toEqual(expected);
    expect(read(body, cuttings(body, 3000, 1)[1], usageFromEmbeddings)).toEqual(expected);
  });

  test('a 5 MB embeddings answer, usage first', () => {
    const body = Buffer.from(embeddingsJson(5_000_000, true));
    const expected = usageFromEmbeddings(JSON.parse(body.toString()).usage);
    expect(expected?.input_tokens).toBeGreaterThan(100);
    for (const pieces of cuttings(body, 70_000, 2)) expect(read(body, pieces, usageFromEmbeddings)).toEqual(expected);
  });

  test('a 150 KB answer in 1-byte chunks', () => {
    const body = Buffer.from(embeddingsJson(150_000));
    expect(read(body, [...body].map((b) => Buffer.from([b])), usageFromEmbeddings)).toEqual(usageFromEmbeddings(JSON.parse(body.toString()).usage));
  });

  test('chunks pushed earlier may be reused by the caller without changing the result', () => {
    const body = Buffer.from(embeddingsJson(200_000));
    const tap = new JsonUsageTap(usageFromEmbeddings);
    const pieces = cuttings(body, 5000, 1)[1].map((piece) => Buffer.from(piece));
    pieces.forEach((piece, i) => {
      tap.push(piece);
      if (i > 0) pieces[i - 1].fill(0x20); // the previous chunk is free once the next one came
    });
    expect(tap.result()).toEqual(usageFromEmbeddings(JSON.parse(body.toString()).usage));
  });
});

describe('JsonUsageTap against JSON.parse on random documents', () => {
  let seed = 42;
  const random = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const strings = ['usage', '"usage":{', 'a\\', '\\"usage\\":', '{[', ']}', 'é世', '', '\\\\', '"'];
  function value(depth: number): unknown {
    switch (depth > 3 ? random(3) : random(6)) {
      case 0:
        return strings[random(strings.length)] + strings[random(strings.length)];
      case 1:
        return random(1000);
      case 2:
        return null;
      case 3:
        return Array.from({ length: random(4) }, () => value(depth + 1));
      default:
        return object(depth + 1);
    }
  }
  function object(depth: number): Record<string, unknown> {
    const result: Record<string, unknown> = {};
    for (let i = random(5); i > 0; i--) result[random(3) === 0 ? 'usage' : strings[random(strings.length)] + i] = value(depth);
    if (random(2) === 0) result.prompt_tokens = random(100); // so that a wrongly chosen object reads as usage too
    return result;
  }

  test('500 documents, cut at random: the tap reports exactly what parsing the whole document gives', () => {
    for (let n = 0; n < 500; n++) {
      const doc = object(0);
      if (random(2) === 0) doc.usage = { prompt_tokens: random(100), completion_tokens: random(100), nested: object(2) };
      const body = random(2) === 0 ? JSON.stringify(doc) : JSON.stringify(doc, null, random(3));
      const expected = usageFromChat(JSON.parse(body).usage);
      for (const pieces of cuttings(Buffer.from(body), 16, 2)) expect({ body, usage: read(body, pieces) }).toEqual({ body, usage: expected });
    }
  });
});

describe('JsonUsageTap options', () => {
  test.each(['headBytes', 'tailBytes'])('%s must be an integer >= 1', (option) => {
    expect(() => new JsonUsageTap(usageFromChat, { [option]: 0 })).toThrow(`\`${option}\``);
  });
});
