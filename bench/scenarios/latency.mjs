/**
 * Added latency at a fixed request rate (an open loop: requests leave on schedule whether or not
 * earlier ones have answered, as real traffic does), measured per request from the moment it is
 * sent to the end of its answer, with performance.now(). Run against the upstream directly and
 * through each proxy, in alternating order; "added" is the proxy's percentile minus the direct
 * one of the same round.
 */
import http from 'node:http';
import { PATH } from '../constants.mjs';

function percentile(sorted, p) {
  if (sorted.length === 0) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** `rate` requests per second for `duration` seconds to `origin + path`; latencies in ms. */
export async function runLatency(origin, { body, rate, duration, path = PATH }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const { hostname, port } = new URL(origin);
  const payload = Buffer.from(body);
  const latencies = [];
  let errors = 0;
  const send = () =>
    new Promise((resolve) => {
      const sentAt = performance.now();
      const req = http.request({ host: hostname, port, path, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': payload.length } }, (res) => {
        res.on('data', () => {});
        res.on('end', () => {
          if (res.statusCode === 200) latencies.push(performance.now() - sentAt);
          else errors++;
          resolve();
        });
      });
      req.on('error', () => {
        errors++;
        resolve();
      });
      req.end(payload);
    });
  const total = Math.round(rate * duration);
  const interval = 1000 / rate;
  const started = performance.now();
  const pending = [];
  // Sends on schedule: each tick sends every request whose time has come (timers are coarse).
  await new Promise((resolve) => {
    let sent = 0;
    const tick = () => {
      const due = Math.min(total, Math.floor((performance.now() - started) / interval) + 1);
      while (sent < due) {
        pending.push(send());
        sent++;
      }
      if (sent < total) setTimeout(tick, Math.max(0, started + sent * interval - performance.now()));
      else resolve();
    };
    tick();
  });
  await Promise.all(pending);
  agent.destroy();
  // The first second warms sockets and JIT: it is left out.
  const measured = latencies.slice(Math.min(latencies.length, Math.round(rate))).sort((a, b) => a - b);
  return {
    p50Ms: percentile(measured, 50),
    p90Ms: percentile(measured, 90),
    p99Ms: percentile(measured, 99),
    count: measured.length,
    errors,
  };
}

/**
 * Bytes the server allocates per request (V8's sampling heap profiler, objects a GC has already
 * collected included), over `duration` seconds at `rate`: a separate pass, since sampling costs
 * CPU the latency runs must not pay.
 */
export async function runAllocation(server, { body, rate, duration, path = PATH }) {
  const start = await server.ask({ type: 'heap-start' });
  await runLatency(server.origin, { body, rate, duration, path });
  const stop = await server.ask({ type: 'heap-stop' });
  const served = stop.served - start.served;
  return { allocBytesPerRequest: served > 0 ? stop.total / served : undefined, topSites: stop.sites.slice(0, 8).map(([site, bytes]) => [site, Math.round(bytes / served)]) };
}
