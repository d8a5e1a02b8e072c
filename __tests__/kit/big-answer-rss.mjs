// Measures what a large plain 2xx answer costs the proxy's process:
//   node big-answer-rss.mjs <dist dir> [megabytes]
// This process runs the upstream (a plain 2xx JSON body of that size, 100 MB by default, written
// from one reused 64 KB piece) and the client that reads it to the end; the router runs alone in a
// child process (the same script, with --proxy), which samples its own RSS every 5 ms. What the
// upstream and the client allocate is thereby not counted as the proxy's. Prints, as JSON, the
// status and bytes the client received and the proxy's RSS before and at its peak.
import { fork } from 'node:child_process';
import http from 'node:http';
import { fileURLToPath, pathToFileURL } from 'node:url';

const MB = 1024 * 1024;
const listen = (server) => new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${server.address().port}`)));

if (process.argv[2] === '--proxy') {
  const [, , , dist, upstreamUrl] = process.argv;
  const { default: express } = await import('express');
  const { createLlmProxyRouter } = await import(pathToFileURL(`${dist}/index.js`).href);
  const router = createLlmProxyRouter({ providers: [{ id: 1, key: 'big', baseUrl: `${upstreamUrl}/v1`, models: { m: 'm' } }], logger: { log() {} } });
  const app = express();
  app.use('/llm', router);
  const proxy = http.createServer(app);
  const proxyUrl = await listen(proxy);
  globalThis.gc?.();
  const before = process.memoryUsage().rss;
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
  process.on('message', async (message) => {
    if (message !== 'report') return;
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().rss);
    process.send({ before, peak }, async () => {
      await router.close();
      proxy.close();
      process.disconnect();
    });
  });
  process.send({ proxyUrl });
} else {
  const [dist, megabytes = '100'] = process.argv.slice(2);
  const total = Number(megabytes) * MB;
  const piece = Buffer.alloc(64 * 1024, 'x');
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
  const child = fork(fileURLToPath(import.meta.url), ['--proxy', dist, upstreamUrl], { execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const next = () => new Promise((resolve) => child.once('message', resolve));
  const { proxyUrl } = await next();
  const received = await new Promise((resolve) => {
    const req = http.request(`${proxyUrl}/llm/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      let bytes = 0;
      res.on('data', (chunk) => (bytes += chunk.length));
      res.on('end', () => resolve({ status: res.statusCode, bytes }));
    });
    req.end('{"model":"m","messages":[]}');
  });
  const reported = next();
  child.send('report');
  const { before, peak } = await reported;
  console.log(JSON.stringify({ ...received, rss_mb: { before: before / MB, peak: peak / MB }, peak_growth_mb: (peak - before) / MB }));
  upstream.close();
}
