/** Throughput scenarios: autocannon against one proxy, CPU charged to the proxy process alone. */
import autocannon from 'autocannon';
import { delta } from '../processes.mjs';
import { LARGE_BODY, PATH, SMALL_BODY } from '../constants.mjs';

/** `duration` seconds of POSTs at `connections` to `path`; `rate` caps requests per second for all of them together. */
export function cannon(origin, body, connections, duration, rate = 0, path = PATH) {
  return autocannon({
    url: origin + path,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    connections,
    duration,
    timeout: 10,
    ...(rate > 0 ? { overallRate: rate } : {}),
  });
}

/** Runs `duration` seconds of load at `connections` and returns req/s and the proxy's CPU µs per request. */
export async function runLoad(server, { body, connections, duration, path = PATH }) {
  const before = await server.stats();
  const result = await cannon(server.origin, body, connections, duration, 0, path);
  const after = await server.stats();
  const { cpuUs, served, cpuPerRequest } = delta(before, after);
  return {
    rps: result.requests.total / result.duration,
    cpuPerRequest,
    // Share of one core the proxy used; near 100 means the proxy itself was the bottleneck.
    cpuPercent: (cpuUs / (result.duration * 1e6)) * 100,
    served,
    completed: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    latencyP50: result.latency.p50,
    latencyP99: result.latency.p99,
  };
}

/** Unmeasured load so every process has JIT-compiled its hot path before the first round. */
export async function warm(server, body, connections, duration, path = PATH) {
  await cannon(server.origin, body, connections, duration, 0, path);
}

/** The bench's warm-up of one proxy: 2 s of small requests, 1 s of each stream API, 1 s of large bodies when asked. */
export async function warmAsTheBench(server, connections, streams, large = false) {
  await warm(server, SMALL_BODY, connections, 2);
  for (const api of streams) await warm(server, api.body, connections, 1, api.path);
  if (large) await warm(server, LARGE_BODY, connections, 1);
}
