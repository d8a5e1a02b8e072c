/**
 * Instructions executed per request, counted by valgrind (not a test; not the bench's method). On a
 * shared host CPU time per request moves by tens of µs between runs of the same build; the count
 * of instructions barely moves, so it shows whether a change does less work, which timing cannot
 * show below ~20 µs. It does not show what the work costs in time (cache misses, system calls).
 *
 *   npm run build
 *   node bench/micro/instructions.mjs [--variants .,/tmp/old] [--modes floor,ours] [--body small|stream]
 *        [--short 200] [--long 1200] [--parallel 2]
 *
 * Each (variant, mode) is `bench/micro/in-process.mjs`'s child (client, proxy and mock upstream in
 * one process; a variant is a directory with `bench/` and a built `dist/`), run twice under
 * `valgrind --tool=cachegrind --cache-sim=no` with V8's `--predictable` (one thread, a fixed GC
 * schedule): once with `--short` and once with `--long` measured requests. The difference of the
 * two totals ÷ the extra requests leaves out start-up and warm-up; what is left includes the
 * client and the upstream, which cost every variant the same. Runs of one build spread by a few
 * % (five runs of one build, small requests: 1.507–1.597 M), so compare medians of several runs.
 * A small-request run takes about a minute, a stream run two or three. Needs valgrind
 * (`apt-get install valgrind`).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    variants: { type: 'string', default: '.' },
    modes: { type: 'string', default: 'floor,ours' },
    body: { type: 'string', default: 'small' },
    short: { type: 'string', default: '200' },
    long: { type: 'string', default: '1200' },
    parallel: { type: 'string', default: '2' },
  },
});

const IN_PROCESS = fileURLToPath(new URL('./in-process.mjs', import.meta.url));
const short = Number(values.short);
const long = Number(values.long);
if (!(long > short && short > 0)) throw new Error('--long must be greater than --short, and both positive');

/** valgrind's total instruction count for one child run of `requests` requests. */
function count(variant, mode, requests) {
  const args = ['--tool=cachegrind', '--cache-sim=no', '--cachegrind-out-file=/dev/null', process.execPath, '--predictable', IN_PROCESS];
  args.push('--child', `${variant}|${mode}`, '--body', values.body, '--requests', String(requests));
  return new Promise((resolve, reject) => {
    // The child's stdout is the router's default log: dropped. valgrind reports on stderr.
    const child = spawn('valgrind', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text) => (stderr += text));
    child.on('error', reject);
    child.on('close', (code) => {
      const refs = /I\s+refs:\s+([\d,]+)/.exec(stderr);
      if (code !== 0 || !refs) reject(new Error(`${variant} ${mode} (${requests}) failed:\n${stderr.slice(-2000)}`));
      else resolve(Number(refs[1].replaceAll(',', '')));
    });
  });
}

const jobs = values.variants.split(',').flatMap((variant) => values.modes.split(',').map((mode) => ({ variant, mode })));
const queue = jobs.flatMap((job) => [short, long].map((requests) => ({ job, requests })));
const totals = new Map();
async function worker() {
  for (let next = queue.shift(); next; next = queue.shift()) {
    totals.set(`${next.job.variant}|${next.job.mode}|${next.requests}`, await count(next.job.variant, next.job.mode, next.requests));
  }
}
await Promise.all(Array.from({ length: Math.max(1, Number(values.parallel)) }, worker));

console.log(`${values.body}: instructions per request, (${long} − ${short} requests) under valgrind, client and upstream included`);
for (const { variant, mode } of jobs) {
  const perRequest = (totals.get(`${variant}|${mode}|${long}`) - totals.get(`${variant}|${mode}|${short}`)) / (long - short);
  console.log(`${`${variant} ${mode}`.padEnd(40)} ${(perRequest / 1e6).toFixed(3)} M`);
}
