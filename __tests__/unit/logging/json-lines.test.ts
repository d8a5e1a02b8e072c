/** The default logger: JSON lines, written in batches, no work for a level that is off. */
import { JsonLinesLog } from '../../../lib/logging/json-lines.js';

const turn = () => new Promise((resolve) => setImmediate(resolve));

function sink() {
  const writes: string[] = [];
  return { writes, out: { write: (chunk: string) => writes.push(chunk) } };
}

describe('JsonLinesLog', () => {
  it('writes one JSON line per entry: timestamp, level, message, then the fields as given', async () => {
    const { writes, out } = sink();
    const log = new JsonLinesLog(out);
    log.log('info', 'POST /llm/v1/chat/completions 200', { status: 200, usage: { input_tokens: 5 } });
    await turn();
    expect(writes).toHaveLength(1);
    const line = writes[0];
    expect(line.endsWith('\n')).toBe(true);
    const entry = JSON.parse(line);
    expect(Object.keys(entry)).toEqual(['timestamp', 'level', 'message', 'status', 'usage']);
    expect(entry).toMatchObject({ level: 'info', message: 'POST /llm/v1/chat/completions 200', status: 200, usage: { input_tokens: 5 } });
    expect(new Date(entry.timestamp).toISOString()).toBe(entry.timestamp);
  });

  it('writes every entry of one event-loop turn in one write, in order', async () => {
    const { writes, out } = sink();
    const log = new JsonLinesLog(out);
    for (let i = 0; i < 5; i++) log.log('info', `m${i}`, { i });
    expect(writes).toHaveLength(0); // nothing written on the request's own turn
    await turn();
    expect(writes).toHaveLength(1);
    expect(writes[0].trimEnd().split('\n').map((line) => JSON.parse(line).i)).toEqual([0, 1, 2, 3, 4]);
  });

  it('after a quiet spell writes on the next turn; while entries keep coming, at most every batchMs', async () => {
    const { writes, out } = sink();
    let now = 1_000;
    const log = new JsonLinesLog(out, { batchMs: 40, now: () => now });
    log.log('info', 'first', {});
    await turn();
    expect(writes).toHaveLength(1); // quiet before: at once

    now += 5; // 5 ms after that write: this one waits for the rest of the 40 ms
    log.log('info', 'second', {});
    now += 10;
    log.log('info', 'third', {});
    await turn();
    expect(writes).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(writes).toHaveLength(2);
    expect(writes[1].trimEnd().split('\n').map((line) => JSON.parse(line).message)).toEqual(['second', 'third']);

    now += 100; // quiet again
    log.log('warn', 'later', {});
    await turn();
    expect(writes).toHaveLength(3);
  });

  it('writes at once when the pending lines reach maxPendingBytes', () => {
    const { writes, out } = sink();
    const log = new JsonLinesLog(out, { maxPendingBytes: 200 });
    log.log('info', 'short', {});
    expect(writes).toHaveLength(0);
    log.log('info', 'x'.repeat(200), {});
    expect(writes).toHaveLength(1);
    expect(writes[0].trimEnd().split('\n')).toHaveLength(2);
  });

  it('writes the ISO timestamp of the entry, across milliseconds, seconds, days and years', async () => {
    const { writes, out } = sink();
    const instants = ['2026-11-29T04:00:00.000Z', '2026-11-29T04:00:00.000Z', '2026-11-29T04:00:00.001Z', '2026-11-29T04:00:00.999Z', '2026-11-29T04:00:01.000Z', '2026-12-31T23:59:59.999Z', '2027-01-01T00:00:00.007Z', '1999-12-31T23:59:59.050Z'];
    let at = 0;
    const log = new JsonLinesLog(out, { now: () => Date.parse(instants[at]) + (at === 1 ? 0.7 : 0) }); // performance-style fractions are dropped
    for (at = 0; at < instants.length; at++) log.log('info', `m${at}`, {});
    await turn();
    expect(writes[0].trimEnd().split('\n').map((line) => JSON.parse(line).timestamp)).toEqual(instants);
  });

  it('escapes the message and an unknown level, and lets a field named like them win as a spread would', async () => {
    const { writes, out } = sink();
    const log = new JsonLinesLog(out, { level: 'debug' });
    log.log('info', 'say "hi"\n', { message: 'from the fields', n: 1 });
    log.log('weird"level', 'm', {});
    log.log('info', 'empty', {});
    await turn();
    const [first, second, third] = writes[0].trimEnd().split('\n').map((line) => JSON.parse(line));
    expect(first).toMatchObject({ level: 'info', message: 'from the fields', n: 1 });
    expect(second.level).toBe('weird"level');
    expect(Object.keys(third)).toEqual(['timestamp', 'level', 'message']);
  });

  it('drops levels below its own without building them, and says so through isLevelEnabled', async () => {
    const { writes, out } = sink();
    const log = new JsonLinesLog(out, { level: 'warn' });
    expect([log.isLevelEnabled('info'), log.isLevelEnabled('warn'), log.isLevelEnabled('error')]).toEqual([false, true, true]);
    const meta = {
      get status(): number {
        throw new Error('built an entry that is dropped');
      },
    };
    log.log('info', 'quiet', meta);
    log.log('error', 'loud', {});
    await turn();
    expect(writes.join('')).not.toContain('quiet');
    expect(JSON.parse(writes[0]).message).toBe('loud');
  });

  it('still writes a line for an entry whose fields cannot be serialised', async () => {
    const { writes, out } = sink();
    const log = new JsonLinesLog(out);
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    log.log('error', 'odd fields', { circular });
    await turn();
    expect(JSON.parse(writes[0])).toMatchObject({ level: 'error', message: 'odd fields', meta_error: expect.any(String) });
  });

  it('after close() writes what is pending, then each entry at once', () => {
    const { writes, out } = sink();
    const log = new JsonLinesLog(out);
    log.log('info', 'pending', {});
    log.close();
    expect(writes).toHaveLength(1);
    log.log('info', 'straggler', {});
    expect(writes).toHaveLength(2);
    expect(JSON.parse(writes[1]).message).toBe('straggler');
  });
});
