/**
 * A/B of the router between builds, for hot-path work:
 *
 *   node bench/ab.mjs <variant> <variant> … [--body small|stream|stream-messages|stream-responses|large] [--rate 2500] [--rounds 5] [--duration 6]
 *
 * A variant is `.` (this checkout's dist/), a commit (`HEAD~1`, `733b8e3`: exported and built under
 * bench/results/ab/), or a directory with `bench/` and a built `dist/`; `:server` picks another
 * proxy from bench/servers/proxies.mjs (`.:floor`, `.:hpm`; default `--server`, ours). Every
 * variant runs in its own process pinned to CPU 1 (upstream and load on CPU 0; `--no-pin` leaves
 * them free) under the same fixed request rate (`--rate 0`: full speed), so CPU per request is
 * compared at equal batching. Rounds alternate; medians and the
 * median per-round difference against the first variant are printed.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import path from 'node:path';
import { delta, pin, startServer } from './processes.mjs';
import { LOAD_BODIES } from './constants.mjs';
import { cannon } from './scenarios/load.mjs';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    // requests per second for all connections together; 0 = as fast as they go (the bench's load)
    rate: { type: 'string', default: '2500' },
    // leave every process free to run on any CPU, as the bench does without --pin
    'no-pin': { type: 'boolean', default: false },
    duration: { type: 'string', default: '6' },
    rounds: { type: 'string', default: '5' },
    server: { type: 'string', default: 'ours' },
    body: { type: 'string', default: 'small' },
  },
});

const chosen = LOAD_BODIES[values.body];
if (chosen === undefined) throw new Error(`--body: one of ${Object.keys(LOAD_BODIES).join(', ')}`);
const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** A directory holding `bench/` and `dist/` for `variant`: itself, or a commit exported and built once. */
function checkout(variant) {
  if (existsSync(path.join(variant, 'bench/servers/proxy.mjs'))) return path.resolve(variant);
  const commit = execFileSync('git', ['rev-parse', '--short', variant], { cwd: ROOT, encoding: 'utf8' }).trim();
  const dir = path.join(ROOT, 'bench/results/ab', commit);
  if (!existsSync(path.join(dir, 'dist/index.js'))) {
    mkdirSync(dir, { recursive: true });
    execFileSync('sh', ['-c', `git archive ${commit} lib bench tsconfig.json tsconfig.build.json package.json | tar -x -C '${dir}'`], { cwd: ROOT });
    if (!existsSync(path.join(dir, 'node_modules'))) symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
    execFileSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: dir, stdio: 'inherit' });
  }
  return dir;
}

const pinned = !values['no-pin'];
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const upstream = await startServer('upstream', 'upstream.mjs');
if (pinned) pin(0, process.pid, upstream.pid);
const variants = [];
for (const spec of positionals) {
  const [variant, name = values.server] = spec.split(':');
  const script = path.join(checkout(variant), 'bench/servers/proxy.mjs');
  const server = await startServer(spec, path.relative(new URL('./servers/', import.meta.url).pathname, script), [name, upstream.origin]);
  if (pinned) pin(1, server.pid);
  variants.push({ dir: spec, server, cpu: [] });
}
const load = (server, duration, rate) => cannon(server.origin, chosen.body, 50, duration, rate, chosen.path);
for (const v of variants) await load(v.server, 3, Number(values.rate));
const measure = async (v, rate) => {
  const before = await v.server.stats();
  const result = await load(v.server, Number(values.duration), rate);
  const after = await v.server.stats();
  const { cpuPerRequest } = delta(before, after);
  v.cpu.push(cpuPerRequest);
  if (process.env.AB_VERBOSE) console.log(`${v.dir}: ${cpuPerRequest.toFixed(1)} µs/req, ${(result.requests.total / result.duration).toFixed(0)} req/s, errors ${result.errors + result.non2xx}`);
};
for (let round = 0; round < Number(values.rounds); round++) {
  const order = round % 2 === 0 ? variants : [...variants].reverse();
  for (const v of order) await measure(v, Number(values.rate));
}
for (const v of variants) console.log(`${v.dir}: median ${median(v.cpu).toFixed(1)} µs/req (${Math.min(...v.cpu).toFixed(1)}–${Math.max(...v.cpu).toFixed(1)})`);
// Slow spells of a shared host hit neighbouring runs alike: the per-round difference is steadier.
for (const v of variants.slice(1)) {
  const diffs = v.cpu.map((cpu, i) => cpu - variants[0].cpu[i]);
  console.log(`${v.dir} − ${variants[0].dir}: median ${median(diffs).toFixed(1)} µs/req per round (${Math.min(...diffs).toFixed(1)}…${Math.max(...diffs).toFixed(1)})`);
}
await Promise.all([upstream, ...variants.map((v) => v.server)].map((s) => s.stop()));
