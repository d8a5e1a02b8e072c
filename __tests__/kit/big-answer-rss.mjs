// Runs in a child process (node --expose-gc big-answer-rss.mjs <dist dir> [megabytes]): a router from
// the built package, an upstream answering with a plain 2xx JSON body of that size (100 MB by
// default, written from one reused 64 KB piece), and a client that reads it to the end. Prints the
// proxy process's RSS before and at its peak during the answer, as JSON. Everything runs in this
// one process, so the peak also holds what the upstream and the client keep: an upper bound.
import http from 'node:http';
import { pathToFileURL } from 'node:url';
import express from 'express';

const [dist, megabytes = '100'] = process.argv.slice(2);
const { createLlmProxyRouter } = await import(pathToFileURL(`${dist}/index.js`).href);
const MB = 1024 * 1024;
const total = Number(megabytes) * MB;
const piece = Buffer.alloc(64 * 1024, 'x');

const listen = (server) => new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${server.address().port}`)));

const upstream = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': total });
    let written = 0;
    const pump = () => {
      while (written < total) {
        written += piece.length;
        if (!res.write(piece)) return void res.once('drain', pump);
      }
      res.end();
    };
    pump();
  });
});
const upstreamUrl = await listen(upstream);
const router = createLlmProxyRouter({ providers: [{ id: 1, key: 'big', baseUrl: `${upstreamUrl}/v1`, models: { m: 'm' } }], logger: { log() {} } });
const app = express();
app.use('/llm', router);
const proxy = http.createServer(app);
const proxyUrl = await listen(proxy);

globalThis.gc?.();
const before = process.memoryUsage().rss;
let peak = before;
const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
const received = await new Promise((resolve) => {
  const req = http.request(`${proxyUrl}/llm/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
    let bytes = 0;
    res.on('data', (chunk) => (bytes += chunk.length));
    res.on('end', () => resolve({ status: res.statusCode, bytes }));
  });
  req.end('{"model":"m","messages":[]}');
});
clearInterval(sampler);
peak = Math.max(peak, process.memoryUsage().rss);
console.log(JSON.stringify({ ...received, rss_mb: { before: before / MB, peak: peak / MB }, peak_growth_mb: (peak - before) / MB }));
await router.close();
proxy.close();
upstream.close();
