/**
 * `npm run bench [-- --duration 20 --rounds 5]`: our router beside its floor and its peers.
 * Every server runs in its own process on 127.0.0.1; the load generator and clients run here.
 * See BENCHMARKS.md for what each scenario measures and the latest results.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir } from 'node:fs/promises';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { LARGE_BODY, LOAD_BODIES, SMALL_BODY, STREAM_APIS } from './constants.mjs';
import { pin, startServer } from './processes.mjs';
import { startRedis } from './redis.mjs';
import { checkTargets, renderMarkdown, summarize, writeResults } from './report.mjs';
import { configureFidelity, runFidelity } from './scenarios/fidelity.mjs';
import { runLoad, warm, warmAsTheBench } from './scenarios/load.mjs';
import { runOpenStreams } from './scenarios/open-streams.mjs';
import { runAllocation, runLatency } from './scenarios/latency.mjs';
import { topSelfTime } from './profile-top.mjs';
import { PROXIES } from './servers/proxies.mjs';

const SCENARIOS = ['nonstream', 'stream', 'body', 'fidelity', 'open', 'latency'];
const USAGE = `npm run bench -- [options]
  --duration <s>       seconds per non-streaming run (default 20, as the issue measured)
  --stream-duration <s> seconds per streaming run (default: --duration; streaming throughput is
                       the noisiest figure, and shorter runs catch one process in a slow spell)
  --side-duration <s>  seconds per 100 KB run (default duration / 4, at least 1)
  --rounds <n>         alternating rounds (default 5)
  --connections <n>    autocannon connections (default 50)
  --open-streams <n>   concurrent streams in the open-streams scenario (default 1000)
  --rate <n>           requests per second of the latency scenario (default 500)
  --latency-duration <s> seconds per latency run (default 10; the first second is warm-up)
  --servers <list>     comma-separated subset of ${Object.keys(PROXIES).join(',')}
  --scenarios <list>   comma-separated subset of ${SCENARIOS.join(',')}
  --stream-apis <list> the APIs the stream scenario streams, each its own table (default
                       ${Object.keys(STREAM_APIS).join(',')}; the mock sends 20 events in each API's shape)
  --pin                pin the proxies to CPU 1 and the upstream and load generator to CPU 0
                       (taskset), so the proxy under test never shares a core with its load
  --profile <server>   instead: --cpu-prof one server under non-streaming load for --duration s
  --profile-body <b>   small (default), large (100 KB), stream, stream-messages or stream-responses: the load --profile uses`;

function options() {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '20' },
      'stream-duration': { type: 'string' },
      'side-duration': { type: 'string' },
      rounds: { type: 'string', default: '5' },
      connections: { type: 'string', default: '50' },
      'open-streams': { type: 'string', default: '1000' },
      rate: { type: 'string', default: '500' },
      'latency-duration': { type: 'string', default: '10' },
      servers: { type: 'string', default: Object.keys(PROXIES).join(',') },
      scenarios: { type: 'string', default: SCENARIOS.join(',') },
      'stream-apis': { type: 'string', default: Object.keys(STREAM_APIS).join(',') },
      pin: { type: 'boolean', default: false },
      profile: { type: 'string' },
      'profile-body': { type: 'string', default: 'small' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const positive = (name, value) => {
    const number = Number(value);
    if (!Number.isFinite(number) || number <= 0) throw new Error(`--${name} must be a positive number, got ${value}\n${USAGE}`);
    return number;
  };
  const list = (name, value, allowed) => {
    const items = value.split(',').map((item) => item.trim()).filter(Boolean);
    const unknown = items.filter((item) => !allowed.includes(item));
    if (unknown.length || items.length === 0) throw new Error(`--${name}: unknown ${unknown.join(', ') || '(empty)'}; one of ${allowed.join(', ')}`);
    return items;
  };
  const duration = positive('duration', values.duration);
  return {
    duration,
    streamDuration: values['stream-duration'] === undefined ? duration : positive('stream-duration', values['stream-duration']),
    sideDuration: values['side-duration'] === undefined ? Math.max(1, Math.round(duration / 4)) : positive('side-duration', values['side-duration']),
    rounds: Math.round(positive('rounds', values.rounds)),
    connections: Math.round(positive('connections', values.connections)),
    openStreams: Math.round(positive('open-streams', values['open-streams'])),
    rate: positive('rate', values.rate),
    latencyDuration: positive('latency-duration', values['latency-duration']),
    servers: list('servers', values.servers, Object.keys(PROXIES)),
    scenarios: list('scenarios', values.scenarios, SCENARIOS),
    streamApis: list('stream-apis', values['stream-apis'], Object.keys(STREAM_APIS)),
    pin: values.pin,
    profile: values.profile === undefined ? undefined : list('profile', values.profile, Object.keys(PROXIES))[0],
    profileLoad: LOAD_BODIES[list('profile-body', values['profile-body'], Object.keys(LOAD_BODIES))[0]],
  };
}

const log = (message) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);

/** Rough seconds the run takes, printed first and used for the watchdog. */
function estimate(opts) {
  const n = opts.servers.length;
  const perRound =
    (opts.scenarios.includes('nonstream') ? n * opts.duration : 0) +
    (opts.scenarios.includes('stream') ? n * opts.streamDuration * opts.streamApis.length : 0) +
    (opts.scenarios.includes('body') ? n * opts.sideDuration : 0) +
    (opts.scenarios.includes('fidelity') ? (n + 1) * 1 : 0) +
    (opts.scenarios.includes('open') ? n * 4 : 0) +
    (opts.scenarios.includes('latency') ? (n + 1) * opts.latencyDuration + n * 5 / opts.rounds : 0);
  return n * 4 + opts.rounds * perRound;
}

function machine() {
  const cpus = os.cpus();
  return { nproc: os.availableParallelism(), cpu: cpus[0]?.model, node: process.version, platform: `${os.type()} ${os.release()}`, loadavg: os.loadavg() };
}

async function profile(opts, upstream) {
  const dir = fileURLToPath(new URL('./results/profiles/', import.meta.url));
  await mkdir(dir, { recursive: true });
  const before = new Set(await readdir(dir));
  const proxy = await startServer(opts.profile, 'proxy.mjs', [opts.profile, upstream.origin], ['--cpu-prof', '--cpu-prof-dir', dir]);
  if (opts.pin) {
    pin(0, process.pid, upstream.pid);
    pin(1, proxy.pid);
  }
  let served = 0;
  try {
    await warm(proxy, opts.profileLoad.body, opts.connections, 2, opts.profileLoad.path);
    const result = await runLoad(proxy, { ...opts.profileLoad, connections: opts.connections, duration: opts.duration });
    log(`${opts.profile}: ${result.rps.toFixed(0)} req/s, ${result.cpuPerRequest.toFixed(0)} µs CPU per request`);
    served = (await proxy.stats()).served;
  } finally {
    await proxy.stop();
  }
  const written = (await readdir(dir)).filter((file) => !before.has(file) && file.endsWith('.cpuprofile'));
  for (const file of written) {
    const { busyMs, rows, byGroup } = await topSelfTime(dir + file, 30);
    // Startup and warm-up are in the profile too: per-request figures are over every request served.
    const perRequest = (ms) => `${((ms * 1000) / served).toFixed(0).padStart(4)} µs/req`;
    console.log(`\n${dir}${file}: busy ${busyMs.toFixed(0)} ms over ${served} requests (${perRequest(busyMs)}); by origin:`);
    for (const row of byGroup) console.log(`${row.percentOfBusy.toFixed(1).padStart(5)}%  ${perRequest(row.ms)}  ${row.name}`);
    console.log('top self time:');
    for (const row of rows) console.log(`${row.percentOfBusy.toFixed(1).padStart(5)}%  ${perRequest(row.ms)}  ${row.name}`);
  }
}

async function bench(opts, upstream, proxies) {
  // The stream scenario records each API under its own key: stream (chat), stream-messages, stream-responses.
  const streams = opts.streamApis.map((api) => STREAM_APIS[api]);
  const keys = opts.scenarios.flatMap((scenario) => (scenario === 'stream' ? streams.map((api) => api.scenario) : [scenario]));
  const runs = Object.fromEntries(keys.map((key) => [key, {}]));
  const record = (scenario, name, result) => {
    (runs[scenario][name] ??= []).push(result);
  };
  // Fixed row order in the tables whatever the run order.
  for (const key of keys) {
    if (key === 'fidelity') runs.fidelity.direct = [];
    if (key === 'latency') runs.latency.direct = [];
    for (const proxy of proxies) runs[key][proxy.name] = [];
  }

  log('warming up every proxy (unmeasured)');
  for (const proxy of proxies) {
    await warmAsTheBench(proxy, opts.connections, streams, opts.scenarios.includes('body'));
  }

  for (let round = 0; round < opts.rounds; round += 1) {
    // A B C … then … C B A: drift in the shared machine falls on every proxy alike.
    const order = round % 2 === 0 ? proxies : [...proxies].reverse();
    log(`round ${round + 1}/${opts.rounds}: ${order.map((proxy) => proxy.name).join(' → ')}`);
    for (const scenario of opts.scenarios) {
      if (scenario === 'fidelity') {
        await configureFidelity(upstream);
        record('fidelity', 'direct', await runFidelity(upstream));
      } else {
        await upstream.ask({ type: 'configure', firstMs: 0, gapMs: 0 });
      }
      const latency = { body: SMALL_BODY, rate: opts.rate, duration: opts.latencyDuration };
      if (scenario === 'latency') {
        const direct = await runLatency(upstream.origin, latency);
        record('latency', 'direct', direct);
        log(`  ${'latency'.padEnd(16)} ${'direct'.padEnd(16)} p50 ${direct.p50Ms.toFixed(2)} p99 ${direct.p99Ms.toFixed(2)} ms`);
      }
      // Streams: every proxy on one API, then the next API, so each API's rows of a round are neighbours.
      const jobs = scenario === 'stream' ? streams.flatMap((api) => order.map((proxy) => ({ key: api.scenario, proxy, api }))) : order.map((proxy) => ({ key: scenario, proxy }));
      for (const { key, proxy, api } of jobs) {
        let result;
        if (scenario === 'nonstream') result = await runLoad(proxy, { body: SMALL_BODY, connections: opts.connections, duration: opts.duration });
        else if (scenario === 'stream') result = await runLoad(proxy, { body: api.body, path: api.path, connections: opts.connections, duration: opts.streamDuration });
        else if (scenario === 'body') result = await runLoad(proxy, { body: LARGE_BODY, connections: opts.connections, duration: opts.sideDuration });
        else if (scenario === 'fidelity') result = await runFidelity(proxy);
        else if (scenario === 'latency') result = await runLatency(proxy.origin, latency);
        else result = await runOpenStreams(proxy, upstream, opts.openStreams);
        record(key, proxy.name, result);
        const brief =
          'rps' in result
            ? `${result.rps.toFixed(0)} req/s, ${result.cpuPerRequest?.toFixed(0)} µs/req`
            : 'ttfbMs' in result
              ? `TTFB ${result.ttfbMs.toFixed(1)} ms, gap ${result.gapMedianMs.toFixed(2)} ms, coalesced ${result.coalesced}`
              : 'p50Ms' in result
                ? `p50 ${result.p50Ms.toFixed(2)} p90 ${result.p90Ms.toFixed(2)} p99 ${result.p99Ms.toFixed(2)} ms`
              : `${result.rssPerStreamKb.toFixed(1)} KB RSS/stream, ${result.failed} failed`;
        log(`  ${key.padEnd(16)} ${proxy.name.padEnd(16)} ${brief}`);
      }
    }
  }
  if (opts.scenarios.includes('latency')) {
    // Allocation per request at the latency scenario's rate, in a pass of its own (sampling costs CPU).
    runs.alloc = {};
    for (const proxy of proxies) {
      const result = await runAllocation(proxy, { body: SMALL_BODY, rate: opts.rate, duration: 5 });
      runs.alloc[proxy.name] = [result];
      log(`  ${'allocation'.padEnd(16)} ${proxy.name.padEnd(16)} ${result.allocBytesPerRequest?.toFixed(0)} bytes per request`);
    }
  }
  return runs;
}

async function main() {
  const opts = options();
  if (!existsSync(fileURLToPath(new URL('../dist/index.js', import.meta.url)))) {
    throw new Error('dist/index.js is missing: run `npm run build` first');
  }
  const eta = opts.profile ? opts.duration + 10 : estimate(opts);
  log(`about ${Math.ceil(eta / 60)} min: ${JSON.stringify({ ...opts, profileLoad: undefined })}`);
  const children = [];
  // The bench stops by itself even if a child hangs.
  const watchdog = setTimeout(() => {
    log(`watchdog: still running after ${Math.round(eta * 2 + 120)} s; stopping`);
    for (const child of children) child.stop();
    process.exitCode = 1;
    setTimeout(() => process.exit(1), 4000).unref();
  }, (eta * 2 + 120) * 1000);
  watchdog.unref();
  const stopAll = () => Promise.all(children.map((child) => child.stop()));
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, () => {
      log(`${signal}: stopping the servers`);
      stopAll().finally(() => process.exit(130));
    });
  }

  const startedAt = new Date().toISOString();
  try {
    const upstream = await startServer('upstream', 'upstream.mjs');
    children.push(upstream);
    if ((opts.profile ? [opts.profile] : opts.servers).some((name) => PROXIES[name].redis)) {
      const redis = await startRedis();
      children.push(redis);
      process.env.BENCH_REDIS_URL = redis.url; // the forked proxies inherit it
      log(`redis-server at ${redis.url}`);
    }
    if (opts.profile) {
      await profile(opts, upstream);
      return;
    }
    const proxies = await Promise.all(opts.servers.map((name) => startServer(name, 'proxy.mjs', [name, upstream.origin])));
    children.push(...proxies);
    if (opts.pin) {
      pin(0, process.pid, upstream.pid);
      pin(1, ...proxies.map((proxy) => proxy.pid));
    }
    const runs = await bench(opts, upstream, proxies);
    const summary = summarize(runs);
    const labels = { direct: 'direct to the upstream (no proxy)', ...Object.fromEntries(Object.entries(PROXIES).map(([name, proxy]) => [name, proxy.label])) };
    const meta = {
      startedAt,
      finishedAt: new Date().toISOString(),
      command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
      machine: machine(),
      connections: opts.connections,
      durations: { nonstream: opts.duration, stream: opts.streamDuration, body: opts.sideDuration },
      rounds: opts.rounds,
      openStreams: opts.openStreams,
      rate: opts.rate,
      latencyDuration: opts.latencyDuration,
      labels,
    };
    const markdown = renderMarkdown(summary, labels, meta);
    const file = await writeResults({ meta, summary, targets: checkTargets(summary), runs }, markdown);
    console.log(`\n${markdown}`);
    log(`wrote ${file} and bench/results/latest.md`);
  } finally {
    clearTimeout(watchdog);
    await stopAll();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
