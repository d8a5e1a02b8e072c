/**
 * CPU and garbage collection per request with the client, the proxy and a mock upstream in ONE
 * process (not a test; not the bench's method). The client and upstream cost the same for every
 * variant, so differences between variants are the proxy's; what it buys is steadiness: on a
 * shared host the bench's per-process A/B moves ±50 µs between rounds, this about ±5 µs. It also
 * counts what the bench cannot see: how much of the minor GCs' time each request costs, and which
 * allocation sites leave objects that survive a minor GC (what makes scavenges slow).
 *
 *   npm run build
 *   node bench/micro/in-process.mjs [--variants .,bench/results/ab/<commit>] [--modes floor,ours,ours-defaults]
 *        [--body small|stream] [--requests 20000] [--rounds 3] [--survivors | --promoted]
 *
 * A variant is a directory holding `bench/` and a built `dist/`, as `bench/ab.mjs` takes them (this
 * checkout, or a commit it exported); a mode is one of that variant's bench proxies
 * (`bench/servers/proxies.mjs`: `floor`, `ours`, `ours-defaults`, …), built as the bench builds
 * them. Each (variant, mode) runs in its own child process, alternating, `--rounds` times; medians
 * are printed. The router's default logger writes to the child's stdout, which is /dev/null.
 * `--survivors` prints, per mode, the allocation sites of objects that outlived a minor GC
 * (V8's sampling heap profiler, one run, inlining off so that sites are the real functions).
 * `--promoted` prints, per mode, what V8's scavenges copied to the old generation per request
 * (`--trace-gc-nvp`, one run): objects that outlive two scavenges, or that something dead but
 * already old keeps reachable. That figure found two such leaks of whole requests into the old
 * generation (a Set whose entries came and went, a WeakMap value that led back to its key).
 */
import { spawnSync } from 'node:child_process';
import { writeSync } from 'node:fs';
import http from 'node:http';
import inspector from 'node:inspector';
import path from 'node:path';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CONCURRENCY = 20;
const WARM_UP = 2000;
/** What a `--promoted` child writes around its measured run, among V8's GC trace lines. */
const MEASURE_START = '\n--measured run starts--\n';
const MEASURE_END = '\n--measured run ends--\n';

const { values } = parseArgs({
  options: {
    variants: { type: 'string', default: '.' },
    modes: { type: 'string', default: 'floor,ours,ours-defaults' },
    body: { type: 'string', default: 'small' },
    requests: { type: 'string', default: '20000' },
    rounds: { type: 'string', default: '3' },
    survivors: { type: 'boolean', default: false },
    promoted: { type: 'boolean', default: false },
    child: { type: 'string' }, // internal: `variant|mode`
  },
});

// This child's upstream answers chat only: any other load would quietly be measured as `small`.
if (values.body !== 'small' && values.body !== 'stream') throw new Error(`--body: small or stream, not ${values.body}`);

if (values.child) {
  await child(values.child);
} else {
  parent();
}

function parent() {
  const variants = values.variants.split(',');
  const modes = values.modes.split(',');
  const runs = variants.flatMap((variant) => modes.map((mode) => ({ variant, mode, cpu: [], gc: [] })));
  const oneRun = values.survivors || values.promoted;
  const rounds = oneRun ? 1 : Number(values.rounds);
  for (let round = 0; round < rounds; round++) {
    for (const run of round % 2 === 0 ? runs : [...runs].reverse()) {
      if (values.promoted) {
        promoted(run);
        continue;
      }
      const flags = values.survivors ? ['--no-turbo-inlining'] : [];
      const args = [...flags, ...childArgs(run)];
      if (values.survivors) args.push('--survivors');
      // The router's default logger writes to stdout: the child's goes to /dev/null, its report to stderr.
      const result = spawnSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
      if (result.status !== 0) throw new Error(`${run.variant} ${run.mode} failed: ${result.stderr}`);
      if (values.survivors) {
        process.stdout.write(`\n${run.variant} ${run.mode}:\n${result.stderr}`);
        continue;
      }
      const report = JSON.parse(result.stderr.trim().split('\n').at(-1));
      run.cpu.push(report.cpu);
      run.gc.push(report.minorGc);
    }
  }
  if (oneRun) return;
  const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  console.log(`${values.body}, ${values.requests} requests per run, ${CONCURRENCY} at a time, ${rounds} rounds (median; all runs in brackets)`);
  for (const run of runs) {
    console.log(`${`${run.variant} ${run.mode}`.padEnd(40)} CPU ${median(run.cpu).toFixed(1)} µs/request [${run.cpu.map((x) => x.toFixed(0)).join(' ')}], minor GC ${median(run.gc).toFixed(1)} µs/request`);
  }
}

/** This script as one (variant, mode) child, with the parent's body and request count. */
function childArgs(run) {
  return [fileURLToPath(import.meta.url), '--child', `${run.variant}|${run.mode}`, '--body', values.body, '--requests', values.requests];
}

/** One run with V8's per-GC trace on stdout; sums the scavenges of the measured part (between the child's markers). */
function promoted(run) {
  const args = ['--trace-gc-nvp', ...childArgs(run), '--promoted'];
  const result = spawnSync(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', maxBuffer: 1 << 30 });
  if (result.status !== 0) throw new Error(`${run.variant} ${run.mode} failed: ${result.stderr}`);
  const measured = result.stdout.split(MEASURE_START)[1]?.split(MEASURE_END)[0] ?? '';
  let scavenges = 0;
  let bytes = 0;
  for (const line of measured.split('\n')) {
    if (!line.includes(' gc=s ')) continue;
    scavenges++;
    bytes += Number(/ promoted=(\d+)/.exec(line)?.[1] ?? 0);
  }
  const requests = Number(values.requests);
  console.log(`${`${run.variant} ${run.mode}`.padEnd(40)} promoted ${(bytes / requests / 1024).toFixed(2)} kB/request, ${(bytes / Math.max(scavenges, 1) / 1024).toFixed(0)} kB per scavenge (${scavenges} scavenges)`);
}

async function child(spec) {
  const [variant, mode] = spec.split('|');
  const { PROXIES } = await import(pathToFileURL(path.resolve(ROOT, variant, 'bench/servers/proxies.mjs')).href);
  if (!PROXIES[mode]) throw new Error(`unknown mode ${mode}; one of ${Object.keys(PROXIES).join(', ')}`);
  const { SMALL_BODY, STREAM_BODY, MODEL, PATH } = await import('../constants.mjs');
  const events = Array.from({ length: 19 }, (_, i) => `data: {"id":"c","object":"chat.completion.chunk","model":"${MODEL}","choices":[{"index":0,"delta":{"content":"tok${i}"}}]}\n\n`).concat(['data: [DONE]\n\n']);
  const completion = JSON.stringify({
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 1,
    model: MODEL,
    choices: [{ index: 0, message: { role: 'assistant', content: 'A reverse proxy forwards each request to an upstream server and passes the answer back.' }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 24, completion_tokens: 41, total_tokens: 65 },
  });
  const listen = (server) => new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));

  // The bench's own upstream runs in a process of its own; this one lives in the same process.
  const upstreamPort = await listen(
    http.createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        if (!body.includes('"stream":true')) {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(completion);
          return;
        }
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        let i = 0;
        const next = () => {
          if (i === events.length) res.end();
          else {
            res.write(events[i++]);
            setImmediate(next);
          }
        };
        next();
      });
    }),
  );

  const app = await PROXIES[mode].build(`http://127.0.0.1:${upstreamPort}`);
  const port = await listen(http.createServer(app));

  const body = values.body === 'stream' ? STREAM_BODY : SMALL_BODY;
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const one = () =>
    new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, path: PATH, method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', reject);
      req.end(body);
    });
  const run = async (n) => {
    let left = n;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (left-- > 0) await one();
      }),
    );
  };
  await run(WARM_UP);
  const requests = Number(values.requests);

  if (values.survivors) {
    const session = new inspector.Session();
    session.connect();
    const post = (method, params) => new Promise((resolve, reject) => session.post(method, params, (error, result) => (error ? reject(error) : resolve(result))));
    await post('HeapProfiler.enable');
    // Objects a minor GC collected are left out: what remains outlived at least one scavenge.
    await post('HeapProfiler.startSampling', { samplingInterval: 512, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: false });
    await run(requests);
    const { profile } = await post('HeapProfiler.stopSampling');
    const sites = new Map();
    let total = 0;
    const walk = (node) => {
      const { functionName, url, lineNumber } = node.callFrame;
      if (node.selfSize > 0) {
        const site = `${functionName || '(anonymous)'} ${url.replace(/^.*\/(node_modules|dist)\//, '$1/')}:${lineNumber + 1}`;
        sites.set(site, (sites.get(site) ?? 0) + node.selfSize);
        total += node.selfSize;
      }
      node.children.forEach(walk);
    };
    walk(profile.head);
    const lines = [`  ${Math.round(total / requests)} bytes per request outlived a minor GC; the largest sites:`];
    for (const [site, bytes] of [...sites].sort((a, b) => b[1] - a[1]).slice(0, 20)) lines.push(`  ${String(Math.round(bytes / requests)).padStart(7)}  ${site}`);
    console.error(lines.join('\n'));
    process.exit(0);
  }

  if (values.promoted) {
    writeSync(1, MEASURE_START);
    await run(requests);
    writeSync(1, MEASURE_END);
    process.exit(0);
  }

  const gc = { minor: 0, other: 0 };
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if (entry.detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) gc.minor += entry.duration;
      else gc.other += entry.duration;
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  const before = process.cpuUsage();
  await run(requests);
  const cpu = process.cpuUsage(before);
  await new Promise((resolve) => setTimeout(resolve, 50)); // the last GC entries
  observer.disconnect();
  const perRequest = (ms) => (ms * 1000) / requests;
  console.error(JSON.stringify({ cpu: (cpu.user + cpu.system) / requests, minorGc: perRequest(gc.minor), otherGc: perRequest(gc.other) }));
  process.exit(0);
}
