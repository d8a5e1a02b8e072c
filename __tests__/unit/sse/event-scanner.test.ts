/**
 * SseEventScanner: WHATWG framing in every line-ending style, markers that filter events (also when
 * a marker or an event is cut across chunks), the size cap, and the caller's buffers left alone.
 */
import { InvalidOptionError } from '../../../lib/errors/errors.js';
import { SseEventScanner } from '../../../lib/sse/event-scanner.js';
import type { SseEventScannerOptions } from '../../../lib/sse/event-scanner.js';

type Seen = [string | undefined, string];

function scan(chunks: readonly Buffer[], markers: readonly string[], options: Partial<SseEventScannerOptions> = {}): Seen[] {
  const seen: Seen[] = [];
  const scanner = new SseEventScanner({ markers, onEvent: (event, data) => seen.push([event, data]), ...options });
  for (const chunk of chunks) scanner.push(chunk);
  return seen;
}

/** Every way of cutting `bytes` the tests use: whole, 1-byte pieces, each single cut, and seeded random sizes. */
function cuttings(bytes: Buffer): Buffer[][] {
  const ways: Buffer[][] = [[bytes], [...bytes].map((b) => Buffer.from([b]))];
  for (let cut = 1; cut < bytes.length; cut++) ways.push([bytes.subarray(0, cut), bytes.subarray(cut)]);
  let seed = 7;
  for (let round = 0; round < 20; round++) {
    const pieces: Buffer[] = [];
    for (let at = 0; at < bytes.length; ) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      const size = 1 + (seed % 9);
      pieces.push(bytes.subarray(at, at + size));
      at += size;
    }
    ways.push(pieces);
  }
  return ways;
}

function expectSameWhateverTheCuts(text: string, markers: readonly string[], expected: Seen[], options?: Partial<SseEventScannerOptions>): void {
  const bytes = Buffer.from(text, 'utf8');
  for (const pieces of cuttings(bytes)) {
    expect({ cuts: pieces.map((p) => p.length), seen: scan(pieces, markers, options) }).toEqual({ cuts: pieces.map((p) => p.length), seen: expected });
  }
}

const STREAM = [
  ': a comment first',
  'event: message_start',
  'data: {"type":"message_start","usage":{"input_tokens":3}}',
  '',
  'data: {"delta":"no marker here"}',
  '',
  'event: message_delta',
  'data: {"usage":',
  'data:{"output_tokens":9}}',
  'id: 7',
  'retry: 100',
  '',
  'data: [DONE]',
  '',
];

describe('SseEventScanner framing', () => {
  const expected: Seen[] = [
    ['message_start', '{"type":"message_start","usage":{"input_tokens":3}}'],
    ['message_delta', '{"usage":\n{"output_tokens":9}}'],
  ];

  test.each([
    ['LF', '\n'],
    ['CRLF', '\r\n'],
    ['CR', '\r'],
  ])('%s line ends, cut anywhere, report the events that contain a marker', (_name, eol) => {
    expectSameWhateverTheCuts(STREAM.join(eol), ['usage'], expected);
  });

  test('mixed line ends in one stream', () => {
    let text = '';
    STREAM.forEach((line, i) => {
      // A CR then an empty line ended by LF would read as one CRLF: give that empty line a CR.
      const eol = line === '' && text.endsWith('\r') ? '\r' : ['\n', '\r\n', '\r'][i % 3];
      text += line + eol;
    });
    expect(text).toMatch(/\r(?!\n).*\r\n.*\n/s);
    expectSameWhateverTheCuts(text, ['usage'], expected);
  });

  test('a CRLF split between two chunks is one line end, not two', () => {
    // Were the CR and the LF counted apart, "data: a\r" + "\n" + "data: b" would end the event early.
    expect(scan([Buffer.from('data: a\r'), Buffer.from('\ndata: b\r\n\r\n')], ['a'])).toEqual([[undefined, 'a\nb']]);
  });

  test('field rules: one optional space, bare field names, empty data, empty event type, unknown fields', () => {
    const text = [
      'data:  two spaces keep one',
      'data',
      'data:',
      'event:',
      'foo: bar',
      '',
      'event: only-a-type x',
      ': no data line, so no event',
      '',
      'data:x',
      '',
      '',
    ].join('\n');
    expectSameWhateverTheCuts(text, ['data'], [
      [undefined, ' two spaces keep one\n\n'],
      [undefined, 'x'],
    ]);
  });

  test('an empty data field still makes an event; blank lines alone make none', () => {
    expectSameWhateverTheCuts('\n\n\r\ndata:\n\n\n', ['data'], [[undefined, '']]);
  });

  test('an event cut off by the end of the stream is not reported', () => {
    expect(scan([Buffer.from('data: {"usage":1}\n')], ['usage'])).toEqual([]);
    expect(scan([Buffer.from('data: {"usage":1}')], ['usage'])).toEqual([]);
  });

  test('a byte-order mark at the start is not part of the first field name', () => {
    expectSameWhateverTheCuts('\ufeffdata: x\n\n', ['x'], [[undefined, 'x']]);
  });

  test('multi-byte characters cut between chunks come out whole', () => {
    expectSameWhateverTheCuts('data: {"usage":"héllo → 世界"}\n\n', ['usage'], [[undefined, '{"usage":"héllo → 世界"}']]);
  });
});

describe('SseEventScanner markers', () => {
  test('only events containing a marker are reported; any of several markers will do', () => {
    const text = 'event: a\ndata: 1\n\nevent: b\ndata: 2\n\nevent: c\ndata: 3\n\n';
    expect(scan([Buffer.from(text)], ['event: a', 'data: 3'])).toEqual([
      ['a', '1'],
      ['c', '3'],
    ]);
  });

  test('a marker cut across two chunks is found', () => {
    const text = 'data: {"n":1}\n\ndata: {"response.completed":true}\n\n';
    const at = text.indexOf('completed');
    const seen = scan([Buffer.from(text.slice(0, at)), Buffer.from(text.slice(at))], ['response.completed']);
    expect(seen).toEqual([[undefined, '{"response.completed":true}']]);
  });

  test('a marker seen in one event does not make the next one match', () => {
    // The marker's first occurrence runs past the first event's end; the second event has none.
    const text = 'data: us\n\ndata: age\n\ndata: usage\n\n';
    expectSameWhateverTheCuts(text, ['usage'], [[undefined, 'usage']]);
  });

  test('events without a marker are never decoded: invalid UTF-8 in them costs nothing and changes nothing', () => {
    const bad = Buffer.concat([Buffer.from('data: '), Buffer.from([0xff, 0xfe, 0xfd]), Buffer.from('\n\ndata: usage\n\n')]);
    expect(scan([bad], ['usage'])).toEqual([[undefined, 'usage']]);
  });
});

describe('SseEventScanner memory', () => {
  test('an event over the cap is dropped whole, however it arrives, and the next one still comes', () => {
    const big = `data: usage ${'x'.repeat(100)}\n\n`;
    const text = `${big}data: usage small\n\n`;
    expectSameWhateverTheCuts(text, ['usage'], [[undefined, 'usage small']], { maxEventBytes: 64 });
  });

  test('an event at the cap is kept', () => {
    const event = 'data: usage\n'; // 12 bytes, then the blank line
    expect(scan([Buffer.from(event.slice(0, 5)), Buffer.from(`${event.slice(5)}\n`)], ['usage'], { maxEventBytes: 12 })).toEqual([[undefined, 'usage']]);
    expect(scan([Buffer.from(event.slice(0, 5)), Buffer.from(`${event.slice(5)}\n`)], ['usage'], { maxEventBytes: 11 })).toEqual([]);
  });

  test('what is held never exceeds the cap, even for a 5 MB event in 64 KiB chunks', () => {
    const seen: Seen[] = [];
    const scanner = new SseEventScanner({ markers: ['usage'], onEvent: (e, d) => seen.push([e, d]), maxEventBytes: 1024 * 1024 });
    scanner.push(Buffer.from('data: usage '));
    let most = 0;
    const piece = Buffer.alloc(64 * 1024, 'x');
    for (let i = 0; i < 80; i++) {
      scanner.push(piece);
      most = Math.max(most, scanner.bufferedBytes);
    }
    scanner.push(Buffer.from('\n\ndata: usage after\n\n'));
    expect(most).toBeLessThanOrEqual(1024 * 1024);
    expect(scanner.bufferedBytes).toBe(0);
    expect(seen).toEqual([[undefined, 'usage after']]);
  });

  test('the caller\u2019s chunks are neither changed nor kept: reusing a chunk after push does not alter the event', () => {
    const seen: Seen[] = [];
    const scanner = new SseEventScanner({ markers: ['usage'], onEvent: (e, d) => seen.push([e, d]) });
    const first = Buffer.from('data: {"usage":');
    const before = Buffer.from(first);
    scanner.push(first);
    expect(first.equals(before)).toBe(true);
    first.fill(0x21); // the caller reuses its buffer
    scanner.push(Buffer.from('1}\n\n'));
    expect(seen).toEqual([[undefined, '{"usage":1}']]);
  });
});

describe('SseEventScanner options', () => {
  test.each([
    [{ markers: [] }, 'markers'],
    [{ markers: [''] }, 'markers'],
    [{ markers: 'usage' }, 'markers'],
    [{ markers: ['usage'], onEvent: 1 }, 'onEvent'],
    [{ markers: ['usage'], maxEventBytes: 0 }, 'maxEventBytes'],
  ])('%j is refused, naming %s', (options, option) => {
    const make = () => new SseEventScanner({ onEvent: () => {}, ...(options as object) } as unknown as SseEventScannerOptions);
    expect(make).toThrow(InvalidOptionError);
    expect(make).toThrow(`\`${option}\``);
  });
});
