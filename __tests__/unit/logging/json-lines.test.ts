/** The default logger: JSON lines, one write per event-loop turn, no work for a level that is off. */
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
    log.log('warn', 'later', {});
    await turn();
    expect(writes).toHaveLength(2);
  });

  it('drops levels below its own without building them, and says so through isLevelEnabled', async () => {
    const { writes, out } = sink();
    const log = new JsonLinesLog(out, 'warn');
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

  it('writes what is pending at once on flush()', () => {
    const { writes, out } = sink();
    const log = new JsonLinesLog(out);
    log.log('info', 'now', {});
    log.flush();
    expect(writes).toHaveLength(1);
  });
});
