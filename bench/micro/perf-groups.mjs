/**
 * Where a proxy's CPU goes under the bench's own load, by kind of code, side by side for several
 * proxies (not a test; not the bench's method). Each proxy runs in its own process as in the
 * bench, warmed as the bench warms it; Linux `perf` samples that process (`cpu-clock`, so it works
 * in a VM without hardware counters) during one autocannon run, with V8's `--perf-basic-prof` map
 * naming the JIT-compiled functions. Every sample is charged to one group (the kernel, libc, V8's
 * runtime and inline-cache misses, V8's builtins, the GC, Node's C++, undici's WebAssembly parser,
 * or the JavaScript of one package or file) and the groups are printed in µs per request.
 *
 *   npm run build
 *   node bench/micro/perf-groups.mjs [--servers floor,ours] [--body small|stream|large|stream-messages|stream-responses]
 *        [--duration 8] [--frequency 5000] [--top 30] [--files]
 *
 * Node's own JavaScript and the router's are one group each; `--files` splits them by file. `--top`
 * also prints the symbols whose cost differs most between the first two servers. perf's
 * own sampling slows the process a little (the µs per request are those of the sampled run); the
 * differences between servers and between groups are what it is for. Needs `perf` (Debian's
 * `linux-perf`) and permission to sample the process (root, or kernel.perf_event_paranoid ≤ 1).
 */
import { spawn, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { LOAD_BODIES, STREAM_APIS } from '../constants.mjs';
import { delta, startServer } from '../processes.mjs';
import { cannon, warmAsTheBench } from '../scenarios/load.mjs';

const { values } = parseArgs({
  options: {
    servers: { type: 'string', default: 'floor,ours' },
    body: { type: 'string', default: 'stream' },
    duration: { type: 'string', default: '8' },
    frequency: { type: 'string', default: '5000' },
    top: { type: 'string', default: '30' },
    files: { type: 'boolean', default: false },
  },
});

const load = LOAD_BODIES[values.body];
if (load === undefined) throw new Error(`--body: one of ${Object.keys(LOAD_BODIES).join(', ')}`);
const frequency = Number(values.frequency);
const usPerSample = 1e6 / frequency;

if (spawnSync('perf', ['--version']).status !== 0) throw new Error('perf is not installed (Debian: apt-get install linux-perf)');

/** The group a sampled symbol is charged to. */
function groupOf(dso, symbol) {
  if (dso.includes('kernel')) return 'kernel';
  if (dso.startsWith('libc')) return 'libc';
  if (dso.startsWith('[JIT]')) {
    if (symbol.includes('wasm-function')) return 'WebAssembly (undici’s HTTP parser)';
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(symbol);
    if (pkg) return `JS: ${pkg[1]}`;
    const ours = /\/dist\/([^:]+)/.exec(symbol);
    if (ours) return values.files ? `JS: express-llm-proxy ${ours[1]}` : 'JS: express-llm-proxy';
    const node = /node:([\w/]+)/.exec(symbol);
    if (node) return values.files ? `JS: node:${node[1]}` : 'JS: Node’s own (http, streams, net, timers, …)';
    return 'JS: other';
  }
  if (/Scaveng|Heap::|MarkCompact|Sweep|Evacuat|GCTracer|ConcurrentMarking|MinorGC/.test(symbol)) return 'V8 GC';
  if (/IC_Miss|LookupIterator|StubCache|IC::|Runtime_|FeedbackNexus|FeedbackVector|MigrateToMap|Map::|TransitionsAccessor|DescriptorArray|PrototypeIterator|MakePrototypesFast|FieldIndex|InitPrototypeChecks|CallOptimization|Object::GetProperty|Object::SetProperty|FastPropertyAt|AddDataProperty/.test(symbol)) {
    return 'V8 runtime: inline-cache misses, property lookups, map changes';
  }
  if (symbol.startsWith('Builtins_')) return 'V8 builtins';
  if (symbol.includes('compiler::') || symbol.includes('Compil')) return 'V8 optimizing compiler';
  if (symbol.startsWith('v8::')) return 'V8, other (its API, strings, JSON, allocation, …)';
  if (symbol.startsWith('node::') || symbol.startsWith('uv') || symbol.startsWith('llhttp')) return 'Node C++, libuv, llhttp';
  return 'other native';
}

/** Samples by (dso, symbol) from `perf report`. */
function readReport(file) {
  const report = spawnSync('perf', ['report', '-i', file, '--no-children', '-g', 'none', '--sort', 'dso,sym', '--stdio', '-n'], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  const samples = new Map();
  for (const line of report.stdout.split('\n')) {
    const match = /^\s*[\d.]+%\s+(\d+)\s+(.*?)\s+\[(?:\.|k)\]\s+(.*)$/.exec(line);
    if (!match) continue;
    const dso = match[2].trim();
    const key = `${dso.startsWith('[JIT]') ? '[JIT]' : dso}\t${match[3].trim()}`;
    samples.set(key, (samples.get(key) ?? 0) + Number(match[1]));
  }
  return samples;
}

async function profile(name, upstream) {
  const proxy = await startServer(name, 'proxy.mjs', [name, upstream.origin], ['--perf-basic-prof-only-functions']);
  try {
    await warmAsTheBench(proxy, 50, Object.values(STREAM_APIS));
    const file = `/tmp/perf-groups-${proxy.pid}.data`;
    const recorder = spawn('perf', ['record', '-e', 'cpu-clock', '-F', String(frequency), '-p', String(proxy.pid), '-o', file], { stdio: ['ignore', 'ignore', 'pipe'] });
    let recorderErrors = '';
    recorder.stderr.on('data', (text) => (recorderErrors += text));
    await new Promise((resolve) => setTimeout(resolve, 300)); // perf attaches
    const before = await proxy.stats();
    await cannon(proxy.origin, load.body, 50, Number(values.duration), 0, load.path);
    const after = await proxy.stats();
    recorder.kill('SIGINT');
    const code = await new Promise((resolve) => recorder.on('close', resolve));
    if (code !== 0 && code !== null) throw new Error(`perf record failed for ${name}:\n${recorderErrors}`);
    const { served, cpuPerRequest } = delta(before, after);
    const samples = readReport(file);
    rmSync(file, { force: true });
    return { name, served, cpuPerRequest, samples };
  } finally {
    await proxy.stop();
    rmSync(`/tmp/perf-${proxy.pid}.map`, { force: true });
  }
}

const upstream = await startServer('upstream', 'upstream.mjs');
const results = [];
try {
  for (const name of values.servers.split(',')) {
    results.push(await profile(name, upstream));
    console.error(`profiled ${name}`);
  }
} finally {
  await upstream.stop();
}

const perRequest = (result, samples) => (samples * usPerSample) / result.served;
const groups = results.map((result) => {
  const totals = new Map();
  for (const [key, samples] of result.samples) {
    const [dso, symbol] = key.split('\t');
    const group = groupOf(dso, symbol);
    totals.set(group, (totals.get(group) ?? 0) + perRequest(result, samples));
  }
  return totals;
});
const names = [...new Set(groups.flatMap((totals) => [...totals.keys()]))].sort((a, b) => Math.max(...groups.map((t) => t.get(b) ?? 0)) - Math.max(...groups.map((t) => t.get(a) ?? 0)));

console.log(`${values.body}: µs per request by kind of code (perf cpu-clock at ${frequency} Hz, ${values.duration} s of the bench's load)`);
console.log(`| group | ${results.map((r) => r.name).join(' | ')} |`);
console.log(`|---|${results.map(() => '---:').join('|')}|`);
for (const name of names) {
  if (groups.every((totals) => (totals.get(name) ?? 0) < 0.5)) continue;
  console.log(`| ${name} | ${groups.map((totals) => (totals.get(name) ?? 0).toFixed(1)).join(' | ')} |`);
}
console.log(`| **sampled, all** | ${groups.map((totals) => [...totals.values()].reduce((a, b) => a + b, 0).toFixed(1)).join(' | ')} |`);
console.log(`| CPU per request (process.cpuUsage) | ${results.map((r) => r.cpuPerRequest.toFixed(1)).join(' | ')} |`);

const top = Number(values.top);
if (top > 0 && results.length >= 2) {
  const [a, b] = results;
  const keys = [...new Set([...a.samples.keys(), ...b.samples.keys()])];
  const cost = (result, key) => perRequest(result, result.samples.get(key) ?? 0);
  keys.sort((x, y) => Math.abs(cost(b, y) - cost(a, y)) - Math.abs(cost(b, x) - cost(a, x)));
  console.log(`\nsymbols that differ most, µs per request: ${a.name} → ${b.name}`);
  for (const key of keys.slice(0, top)) {
    const [dso, symbol] = key.split('\t');
    const from = cost(a, key);
    const to = cost(b, key);
    console.log(`${from.toFixed(2).padStart(7)} ${to.toFixed(2).padStart(7)} ${(to - from >= 0 ? '+' : '') + (to - from).toFixed(2).padStart(6)}  ${dso.padEnd(8).slice(0, 8)} ${symbol.slice(0, 110)}`);
  }
}
process.exit(0);
