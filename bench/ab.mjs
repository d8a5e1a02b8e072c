/**
 * A/B of our router between builds, for hot-path work: `node bench/ab.mjs <dir> <dir> …`, each
 * dir a checkout with `bench/` and a built `dist/`. Every variant runs in its own process pinned
 * to CPU 1 (upstream and load on CPU 0), under the same fixed request rate, so CPU per request is
 * compared at equal batching; rounds alternate and the medians are printed.
 */
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import path from 'node:path';
import autocannon from 'autocannon';
import { delta, startServer } from './processes.mjs';
import { PATH, SMALL_BODY } from './constants.mjs';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    rate: { type: 'string', default: '2500' },
    duration: { type: 'string', default: '6' },
    rounds: { type: 'string', default: '5' },
    server: { type: 'string', default: 'ours' },
  },
});

const pin = (cpu, pid) => spawnSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)]);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const upstream = await startServer('upstream', 'upstream.mjs');
pin(0, process.pid);
pin(0, upstream.pid);
const variants = [];
for (const dir of positionals) {
  const script = path.resolve(dir, 'bench/servers/proxy.mjs');
  const server = await startServer(dir, path.relative(new URL('./servers/', import.meta.url).pathname, script), [values.server, upstream.origin]);
  pin(1, server.pid);
  variants.push({ dir, server, cpu: [] });
}
const load = (server, duration, rate) =>
  autocannon({ url: server.origin + PATH, method: 'POST', headers: { 'content-type': 'application/json' }, body: SMALL_BODY, connections: 50, duration, overallRate: rate });
for (const v of variants) await load(v.server, 3, Number(values.rate));
for (let round = 0; round < Number(values.rounds); round++) {
  const order = round % 2 === 0 ? variants : [...variants].reverse();
  for (const v of order) {
    const before = await v.server.stats();
    const result = await load(v.server, Number(values.duration), Number(values.rate));
    const after = await v.server.stats();
    const { cpuPerRequest } = delta(before, after);
    v.cpu.push(cpuPerRequest);
    console.log(`round ${round + 1} ${v.dir}: ${cpuPerRequest.toFixed(1)} µs/req, ${(result.requests.total / result.duration).toFixed(0)} req/s, errors ${result.errors + result.non2xx}`);
  }
}
for (const v of variants) console.log(`${v.dir}: median ${median(v.cpu).toFixed(1)} µs/req (${Math.min(...v.cpu).toFixed(1)}–${Math.max(...v.cpu).toFixed(1)})`);
await Promise.all([upstream, ...variants.map((v) => v.server)].map((s) => s.stop()));
