/** The link's outage rule, on a scripted client: one slow answer fails its own call only; a few in a row make an outage, logged once. */
import type { NodeRedisClient } from '../../../lib/redis/client.js';
import { NotSentError, RedisLink, RedisTimeoutError } from '../../../lib/redis/link.js';

/** A client whose next answers take the given delays (ms); afterwards it answers at once. */
function scriptedClient(delays: number[]) {
  const client = {
    isReady: true,
    sendCommand(_args: string[], options: { abortSignal?: AbortSignal }) {
      const delay = delays.shift() ?? 0;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => resolve('PONG'), delay);
        options.abortSignal?.addEventListener('abort', () => {
          clearTimeout(timer);
          reject(new Error('aborted'));
        });
      });
    },
  };
  return client as unknown as NodeRedisClient;
}

function linkWith(delays: number[]) {
  const logged: { level: string; message: string }[] = [];
  let back = 0;
  const link = new RedisLink(scriptedClient(delays), { log: (level, message) => logged.push({ level, message }) }, () => back++, 1000);
  return { link, logged, backs: () => back };
}

describe('RedisLink outages', () => {
  it('fails one slow call alone: the link stays up, nothing is logged, the next call is sent', async () => {
    const { link, logged } = linkWith([300]);
    await expect(link.send(['PING'], 100)).rejects.toBeInstanceOf(RedisTimeoutError);
    expect(link.available).toBe(true);
    expect(await link.send(['PING'], 100)).toBe('PONG');
    expect(logged).toEqual([]);
    link.close();
  });

  it('calls Redis down after three timeouts in a row: later calls are not sent, and the warning is written once', async () => {
    const { link, logged } = linkWith([300, 300, 300, 300]);
    for (let i = 0; i < 3; i++) await expect(link.send(['PING'], 100)).rejects.toBeInstanceOf(RedisTimeoutError);
    expect(link.available).toBe(false);
    await expect(link.send(['PING'], 100)).rejects.toBeInstanceOf(NotSentError);
    expect(logged.map((entry) => entry.level)).toEqual(['warn']);
    link.close();
  });

  it('starts the count again after an answer in time', async () => {
    const { link } = linkWith([300, 300, 0, 300, 300]);
    await expect(link.send(['PING'], 100)).rejects.toBeInstanceOf(RedisTimeoutError);
    await expect(link.send(['PING'], 100)).rejects.toBeInstanceOf(RedisTimeoutError);
    expect(await link.send(['PING'], 100)).toBe('PONG');
    await expect(link.send(['PING'], 100)).rejects.toBeInstanceOf(RedisTimeoutError);
    await expect(link.send(['PING'], 100)).rejects.toBeInstanceOf(RedisTimeoutError);
    expect(link.available).toBe(true);
    link.close();
  });
});
