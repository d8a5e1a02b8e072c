/**
 * `npm run build && node bench/micro/redis-hit.mjs`: the wall time of one rate-limit `hit` on a
 * local redis-server (one EVALSHA round trip), beside a bare PING, one call at a time. This is the
 * latency a request limit adds to a request's path (not a test; figures vary with the machine).
 */
import { createClient } from 'redis';
import { createRedisStore } from '../../dist/redis/index.js';
import { startRedis } from '../redis.mjs';

const N = 5000;

function summary(name, samples) {
  samples.sort((a, b) => a - b);
  const at = (q) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))].toFixed(0);
  console.log(`${name.padEnd(40)} median ${at(0.5).padStart(5)} µs   p90 ${at(0.9).padStart(5)} µs   p99 ${at(0.99).padStart(5)} µs`);
}

async function time(fn) {
  for (let i = 0; i < 500; i++) await fn(i); // warm-up: JIT, script cache
  const samples = [];
  for (let i = 0; i < N; i++) {
    const start = process.hrtime.bigint();
    await fn(i);
    samples.push(Number(process.hrtime.bigint() - start) / 1000);
  }
  return samples;
}

const redis = await startRedis();
const client = createClient({ url: redis.url });
await client.connect();
const store = createRedisStore({ client, prefix: 'bench-hit:' });
await store.ready;
try {
  summary('PING (node-redis)', await time(() => client.ping()));
  summary('hit, request limit (one key)', await time(() => store.hit('one-key', { requestsPerMinute: 1_000_000_000 })));
  summary('hit, request + token limit (one key)', await time(() => store.hit('both', { requestsPerMinute: 1_000_000_000, tokensPerMinute: 1_000_000_000 })));
  summary('hit, request limit (a key per call)', await time((i) => store.hit(`key-${i}`, { requestsPerMinute: 10 })));
} finally {
  await store.close();
  await client.close();
  await redis.stop();
}
