/** The records' pending updates while Redis cannot be written: a long list collapses, local wins, nothing applies twice. */
import { keyspace } from '../../../lib/redis/keys.js';
import { NotSentError } from '../../../lib/redis/link.js';
import type { RecordsContext } from '../../../lib/redis/records.js';
import { RedisRecords } from '../../../lib/redis/records.js';

type Count = { n: number; other?: boolean };
const increment = (current: Count | undefined): Count => ({ n: (current?.n ?? 0) + 1 });

function unreachable(): RedisRecords<Count> {
  let op = 0;
  const ctx = {
    link: { eval: async () => Promise.reject(new NotSentError('Redis is down')) },
    keys: keyspace('t:'),
    origin: 'here',
    nextOp: () => `op${++op}`,
    backgroundTimeoutMs: 1000,
    logError: () => {},
  } as unknown as RecordsContext;
  return new RedisRecords<Count>('breaker', ctx);
}

describe('pending updates while Redis is unreachable', () => {
  it.each([50, 100, 101, 250])('%i increments, then another instance\'s change arrives: the local count wins, each increment once', async (count) => {
    const records = unreachable();
    for (let i = 0; i < count; i++) void records.update('k', increment);
    await new Promise((resolve) => setImmediate(resolve));
    expect(records.get('k')).toEqual({ n: count });
    records.applyMessage('k', 5, JSON.stringify({ n: 0, other: true }));
    // Under MAX_PENDING the increments replay on the new base; past it the local value stands.
    expect(records.get('k')?.n).toBe(count);
  });
});
