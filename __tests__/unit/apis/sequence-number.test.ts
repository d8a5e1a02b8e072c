/** The last `sequence_number` of a Responses stream, whatever the chunking; the next one is what a proxy error event carries. */
import { SequenceNumbers } from '../../../lib/apis/sequence-number.js';
import { cuttings, feed } from '../usage/fixtures.js';

const event = (n: number, extra = '') => `event: response.output_text.delta\ndata: {"type":"response.output_text.delta"${extra},"sequence_number":${n},"delta":"x"}\n\n`;

function expectNext(text: string, next: number): void {
  const bytes = Buffer.from(text);
  const ways = [...cuttings(bytes, 9, 8), ...cuttings(bytes, 64, 4)];
  for (let cut = 1; cut < bytes.length; cut++) ways.push([bytes.subarray(0, cut), bytes.subarray(cut)]);
  for (const pieces of ways) {
    expect({ cuts: pieces.map((p) => p.length), next: feed(new SequenceNumbers(), pieces).next }).toEqual({ cuts: pieces.map((p) => p.length), next });
  }
}

describe('SequenceNumbers', () => {
  it('is 0 before any event', () => {
    expect(new SequenceNumbers().next).toBe(0);
    expectNext(': keep-alive\n\n', 0);
  });

  it('follows the last event, in any chunking', () => {
    expectNext([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12].map((n) => event(n)).join(''), 13);
    expectNext(event(0) + event(1234567), 1234568);
  });

  it('reads a number written with spaces, and one at the very end of the last event', () => {
    expectNext('data: {"type":"x","sequence_number" :  41 }\n\n', 42);
    expectNext('data: {"type":"x","sequence_number":7}\n\n', 8);
  });

  it('does not take the marker from inside a JSON string, where its quotes are escaped', () => {
    expectNext(event(3) + 'data: {"type":"d","delta":"\\"sequence_number\\":99","sequence_number":4}\n\n', 5);
    expectNext(event(3) + 'data: {"type":"d","delta":"\\"sequence_number\\":99"}\n\n', 4);
  });

  it('takes the last number when one chunk holds several events', () => {
    const tracker = new SequenceNumbers();
    tracker.push(Buffer.from(event(5) + event(6) + event(2)));
    expect(tracker.next).toBe(3);
  });
});
