// Runs in a child process (node --expose-gc bomb-rss.mjs <dist dir> <default|fetch|node-fetch> [requests]):
// a router from the built package, an upstream answering every request with a gzip bomb (255 kB
// that decodes to 256 MB of zeros), and the proxy process's RSS before, at its peak during, and
// after the requests. Prints one JSON report.
import http from 'node:http';
import { pathToFileURL } from 'node:url';
import zlib from 'node:zlib';
import express from 'express';
import nodeFetch from 'node-fetch';

const [dist, transport = 'default', count = '3'] = process.argv.slice(2);
const { createLlmProxyRouter } = await import(pathToFileURL(`${dist}/index.js`).href);
const MB = 1024 * 1024;

async function gzipBomb(total) {
  const gzip = zlib.createGzip({ level: 9 });
  const out = [];
  gzip.on('data', (chunk) => out.push(chunk));
  const done = new Promise((resolve) => gzip.once('end', resolve));
  const zeros = Buffer.alloc(MB);
  for (let written = 0; written < total; written += MB) {
    if (!gzip.write(zeros)) await new Promise((resolve) => gzip.once('drain', resolve));
  }
  gzip.end();
  await done;
  return Buffer.concat(out);
}

const listen = (server) => new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${server.address().port}`)));

const bomb = await gzipBomb(256 * MB);
const small = zlib.gzipSync(JSON.stringify({ id: 'warm-up', pad: 'p'.repeat(4096) }));
const upstream = http.createServer((req, res) => {
  let body = '';
  req.on('data', (chunk) => (body += chunk));
  req.on('end', () => {
    const packed = body.includes('"warm-up"') ? small : bomb;
    res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': packed.length });
    res.end(packed);
  });
});
const upstreamUrl = await listen(upstream);
const fetchImpl = { default: undefined, fetch: globalThis.fetch, 'node-fetch': nodeFetch }[transport];
const router = createLlmProxyRouter({
  providers: [{ id: 1, key: 'bomb', baseUrl: `${upstreamUrl}/v1`, models: { m: 'm' } }],
  logger: { log() {} },
  ...(fetchImpl ? { fetch: fetchImpl } : {}),
});
const app = express();
app.use('/llm', router);
const proxy = http.createServer(app);
const proxyUrl = await listen(proxy);

/** Posts once; the answer is counted, never held. */
function post(model = 'm') {
  return new Promise((resolve) => {
    const req = http.request(`${proxyUrl}/llm/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      let bytes = 0;
      let head = '';
      res.on('data', (chunk) => {
        if (head.length < 512) head += chunk.toString('latin1').slice(0, 512);
        bytes += chunk.length;
      });
      res.on('end', () => resolve({ status: res.statusCode, bytes, code: /"code":"([^"]+)"/.exec(head)?.[1] ?? null }));
    });
    req.on('error', (error) => resolve({ status: 0, error: error.message }));
    req.end(JSON.stringify({ model, messages: [] }));
  });
}

const settle = async () => {
  for (let i = 0; i < 3; i++) {
    global.gc();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};
for (let i = 0; i < 20; i++) await post('warm-up'); // a first request's one-off allocations are not the bomb's
await settle();
const before = process.memoryUsage().rss;
const maxBefore = process.resourceUsage().maxRSS * 1024;
let sampled = before;
const sampler = setInterval(() => {
  sampled = Math.max(sampled, process.memoryUsage().rss);
}, 1);
const answers = [];
for (let i = 0; i < Number(count); i++) answers.push(await post());
clearInterval(sampler);
const maxAfter = process.resourceUsage().maxRSS * 1024;
await settle();
const after = process.memoryUsage().rss;
// maxRSS is the true peak, but only says something once it passed the peak from before the measure.
const peak = maxAfter > maxBefore ? Math.max(maxAfter, sampled) : sampled;
const mb = (bytes) => Math.round((bytes / MB) * 10) / 10;
console.log(JSON.stringify({ transport, bomb_bytes: bomb.length, answers, rss_mb: { before: mb(before), peak: mb(peak), after_gc: mb(after) }, peak_growth_mb: mb(peak - before), after_growth_mb: mb(after - before) }));
await router.close();
upstream.closeAllConnections();
proxy.closeAllConnections();
upstream.close();
proxy.close();
