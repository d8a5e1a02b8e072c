/**
 * 1,000 concurrent open streams: the upstream sends one event per stream and holds the rest;
 * with every stream open, the proxy's RSS growth over its idle RSS, divided by the streams, is
 * what one open stream costs. Then the upstream releases them all and they finish normally.
 */
import http from 'node:http';
import { openStream } from './sse-client.mjs';

const OPEN_TIMEOUT_MS = 30_000;
const BATCH = 100; // connect in batches: a burst of 1,000 SYNs overflows accept queues
const SETTLE_MS = 300;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export async function runOpenStreams(proxy, upstream, count) {
  await upstream.ask({ type: 'configure', firstMs: 0, gapMs: 0, hold: true });
  const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
  // A quiet baseline: the previous scenario's garbage collected and its sockets gone.
  await sleep(SETTLE_MS);
  const before = await proxy.stats(true);
  let open = 0;
  let allOpen;
  const opened = new Promise((resolve) => {
    allOpen = resolve;
  });
  const onFirstEvent = () => {
    open += 1;
    if (open === count) allOpen();
  };
  const streams = [];
  try {
    for (let i = 0; i < count; i += BATCH) {
      for (let j = i; j < Math.min(count, i + BATCH); j += 1) {
        const stream = openStream(proxy.origin, agent, { onFirstEvent, timeoutMs: OPEN_TIMEOUT_MS * 2 });
        stream.catch(() => {}); // judged below, through allSettled
        streams.push(stream);
      }
      await sleep(10);
    }
    const timedOut = await Promise.race([opened.then(() => false), sleep(OPEN_TIMEOUT_MS).then(() => true)]);
    if (timedOut) {
      throw new Error(`only ${open} of ${count} streams opened within ${OPEN_TIMEOUT_MS} ms`);
    }
    await sleep(SETTLE_MS);
    const during = await proxy.stats(true);
    await upstream.ask({ type: 'release' });
    const settled = await Promise.allSettled(streams);
    const failed = settled.filter((result) => result.status === 'rejected').length;
    return {
      streams: count,
      failed,
      rssPerStreamKb: (during.rss - before.rss) / count / 1024,
      heapPerStreamKb: (during.heap - before.heap) / count / 1024,
      rssIdleMb: before.rss / 1024 / 1024,
    };
  } finally {
    await upstream.ask({ type: 'configure', firstMs: 0, gapMs: 0, hold: false });
    await upstream.ask({ type: 'release' });
    agent.destroy();
  }
}
