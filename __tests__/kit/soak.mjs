// Soak run against the built package (dist/, `npm run build`): one router instance, a mix of
// normal, streaming, faulty, bad and aborted requests, bounded in time and count. Prints a JSON
// report and exits non-zero when a check fails.
//
//   node __tests__/kit/soak.mjs [--count 20000] [--duration-ms 60000] [--concurrency 32]
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { startSoakUpstream } from './soak-upstream.mjs';

const MAX_COUNT = 20_000;
const MAX_DURATION_MS = 60_000;
const HEAP_LIMIT_MB = 10;

// A forced GC needs --expose-gc: run again with it.
if (typeof globalThis.gc !== 'function') {
  const child = spawnSync(process.execPath, ['--expose-gc', ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(child.status ?? 1);
}

function flag(name, fallback, max) {
  const index = process.argv.indexOf(`--${name}`);
  const value = index === -1 ? fallback : Number(process.argv[index + 1]);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} must be a positive integer`);
  return Math.min(value, max);
}
const count = flag('count', MAX_COUNT, MAX_COUNT);
const durationMs = flag('duration-ms', MAX_DURATION_MS, MAX_DURATION_MS);
const concurrency = flag('concurrency', 32, 256);

let unhandled = 0;
let maxListenerWarnings = 0;
process.on('unhandledRejection', () => unhandled++);
process.on('uncaughtException', () => unhandled++);
process.on('warning', (warning) => {
  if (warning.name === 'MaxListenersExceededWarning') maxListenerWarnings++;
});

const { default: express } = await import('express');
const { createLlmProxyRouter } = await import('../../dist/index.js');

const upstream = await startSoakUpstream();
const router = createLlmProxyRouter({
  providers: [{ id: 1, key: 'soak', baseUrl: upstream.baseUrl, apiKey: 'sk-soak-secret', models: { 'gpt-soak': 'upstream-soak' } }],
  logger: { log() {} },
  // Loose enough that a loaded CI machine does not turn normal requests into 504s.
  timeouts: { requestMs: 1500, ttftMs: 1500, streamIdleMs: 1500 },
  heartbeatMs: 0,
});
const app = express();
app.use('/llm', router);
const server = await new Promise((resolve) => {
  const s = app.listen(0, '127.0.0.1', () => resolve(s));
});
const url = `http://127.0.0.1:${server.address().port}/llm/v1/chat/completions`;
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });

// kind -> [share, body, expected outcome]
const MIX = [
  ['normal', 42, { fault: 'ok' }, '200'],
  ['stream', 22, { fault: 'stream', stream: true }, '200 sse'],
  ['upstream_500', 8, { fault: 'error500' }, '500'],
  ['reset_mid_body', 6, { fault: 'reset' }, '502'],
  ['reset_mid_stream', 5, { fault: 'reset-stream', stream: true }, '200 sse upstream_stream_error'],
  ['hang', 1, { fault: 'hang' }, '504'],
  ['bad_input', 6, null, '400'],
  ['aborted_stream', 6, { fault: 'slow-stream', stream: true }, 'aborted'],
  ['aborted_waiting', 4, { fault: 'hang' }, 'aborted'],
];
const TOTAL_SHARE = MIX.reduce((sum, [, share]) => sum + share, 0);
const pick = (i) => {
  let slot = (i * 37) % TOTAL_SHARE; // deterministic, interleaved
  for (const entry of MIX) {
    if (slot < entry[1]) return entry;
    slot -= entry[1];
  }
  return MIX[0];
};

function once(kind, body) {
  const payload = body === null ? '{"model":' : JSON.stringify({ model: 'gpt-soak', messages: [{ role: 'user', content: 'hi' }], ...body });
  return new Promise((resolve) => {
    const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (data) => {
        text += data;
        if (kind === 'aborted_stream') req.destroy();
      });
      res.on('end', () => {
        const sse = String(res.headers['content-type']).startsWith('text/event-stream');
        const error = /"code":"(upstream_stream_error|ttft_timeout|stream_idle_timeout)"/.exec(text);
        resolve([res.statusCode, sse ? 'sse' : '', error ? error[1] : ''].filter(Boolean).join(' '));
      });
      res.on('error', () => resolve('aborted'));
      res.on('aborted', () => resolve('aborted'));
    });
    req.on('error', () => resolve('aborted'));
    req.on('close', () => resolve('aborted')); // settles only if nothing else did
    if (kind === 'aborted_waiting') setTimeout(() => req.destroy(), 20);
    req.end(payload);
  });
}

async function run(total, deadline, outcomes) {
  let next = 0;
  let unexpected = 0;
  const worker = async () => {
    while (next < total && performance.now() < deadline) {
      const [kind, , body, expected] = pick(next++);
      const outcome = await once(kind, body);
      const key = `${kind}: ${outcome}`;
      outcomes[key] = (outcomes[key] ?? 0) + 1;
      if (outcome !== expected) unexpected++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { sent: next, unexpected };
}

async function settledHeap() {
  for (let i = 0; i < 4; i++) {
    globalThis.gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  return process.memoryUsage().heapUsed;
}

async function waitUntil(check, ms) {
  const until = performance.now() + ms;
  while (!check() && performance.now() < until) await new Promise((resolve) => setTimeout(resolve, 20));
  return check();
}

const started = performance.now();
const deadline = started + durationMs;
await run(Math.min(500, count), deadline, {}); // warm up: JIT, pools, caches
const heapBefore = await settledHeap();
const outcomes = {};
const { sent, unexpected } = await run(count, deadline, outcomes);
const elapsed = performance.now() - started;

await waitUntil(() => upstream.busy() === 0, 2000);
const busyAfterRun = upstream.busy();
const openAfterRun = upstream.open();
agent.destroy();
await new Promise((resolve) => setTimeout(resolve, 100));
const heapAfter = await settledHeap();
await new Promise((resolve) => {
  server.closeAllConnections();
  server.close(() => resolve());
});
await router.close();
await waitUntil(() => upstream.open() === 0, 2000);
const openAfterClose = upstream.open();
await upstream.close();

const mb = (bytes) => Math.round((bytes / 1024 / 1024) * 100) / 100;
const checks = {
  every_outcome_as_expected: unexpected === 0,
  no_unhandled_rejections: unhandled === 0,
  no_max_listeners_warnings: maxListenerWarnings === 0,
  // Idle keep-alive sockets may stay; none may still be serving, and the pool stays bounded.
  upstream_sockets_back_to_idle: busyAfterRun === 0 && openAfterRun <= 2 * concurrency,
  upstream_sockets_closed_by_router_close: openAfterClose === 0,
  heap_growth_under_10mb: mb(heapAfter - heapBefore) < HEAP_LIMIT_MB,
};
const report = {
  requests: sent,
  duration_ms: Math.round(elapsed),
  concurrency,
  outcomes: Object.fromEntries(Object.entries(outcomes).sort()),
  unexpected_outcomes: unexpected,
  unhandled_rejections: unhandled,
  max_listeners_warnings: maxListenerWarnings,
  upstream_sockets: { open_after_run: openAfterRun, busy_after_run: busyAfterRun, idle_after_run: openAfterRun - busyAfterRun, open_after_router_close: openAfterClose },
  heap_used_mb: { before: mb(heapBefore), after: mb(heapAfter), growth: mb(heapAfter - heapBefore) },
  checks,
  ok: Object.values(checks).every(Boolean),
};
console.log(JSON.stringify(report, null, 2));
process.exit(report.ok ? 0 : 1);
