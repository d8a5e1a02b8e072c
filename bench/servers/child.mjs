/**
 * The child side of a bench server: listen on loopback, tell the parent the port, and answer its
 * IPC questions (CPU time, RSS, requests served) so the parent can charge cost to this process alone.
 */
import http from 'node:http';
import { Session } from 'node:inspector';

/**
 * Allocation sampling through the inspector: every allocation is a candidate (objects a GC has
 * collected since included), so the sampled sizes add up to the bytes allocated, per site.
 */
function heapSampler() {
  let session;
  const post = (method, params) => new Promise((resolve, reject) => session.post(method, params, (error, result) => (error ? reject(error) : resolve(result))));
  return {
    async start() {
      session = new Session();
      session.connect();
      await post('HeapProfiler.startSampling', { samplingInterval: 1024, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
    },
    async stop() {
      const { profile } = await post('HeapProfiler.stopSampling');
      session.disconnect();
      const sites = new Map();
      let total = 0;
      const walk = (node) => {
        const { functionName, url, lineNumber } = node.callFrame;
        if (node.selfSize > 0) {
          const site = `${functionName || '(anonymous)'} ${url.replace(/^.*\/(node_modules|dist|bench)\//, '$1/')}:${lineNumber + 1}`;
          sites.set(site, (sites.get(site) ?? 0) + node.selfSize);
          total += node.selfSize;
        }
        for (const child of node.children) walk(child);
      };
      walk(profile.head);
      return { total, sites: [...sites].sort((a, b) => b[1] - a[1]).slice(0, 40) };
    },
  };
}

/** Listens `handler` on 127.0.0.1 and serves the parent's IPC requests. `onMessage` takes the rest. */
export function serve(handler, onMessage = () => {}) {
  const server = http.createServer(handler);
  let served = 0;
  server.on('request', () => {
    served += 1;
  });
  // Node's default backlog (511) drops SYNs when 1,000 streams connect at once.
  server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, () => {
    process.send({ type: 'ready', port: server.address().port });
  });
  const sampler = heapSampler();
  process.on('message', (message) => {
    if (message.type === 'heap-start' || message.type === 'heap-stop') {
      const work = message.type === 'heap-start' ? sampler.start() : sampler.stop();
      work.then((result) => process.send({ type: message.type, id: message.id, served, ...result }));
    } else if (message.type === 'stats') {
      const reply = () => {
        const memory = process.memoryUsage();
        process.send({ type: 'stats', id: message.id, cpu: process.cpuUsage(), rss: memory.rss, heap: memory.heapUsed + memory.external, served });
      };
      if (message.gc && globalThis.gc) {
        // Twice, a turn apart: the first pass runs finalizers that free external memory for the second.
        globalThis.gc();
        setImmediate(() => {
          globalThis.gc();
          reply();
        });
      } else {
        reply();
      }
    } else if (message.type === 'exit') {
      // A clean exit, so `--cpu-prof` writes its profile.
      server.closeAllConnections();
      server.close(() => process.exit(0));
      setTimeout(() => process.exit(0), 1000).unref();
    } else {
      onMessage(message);
    }
  });
  // The parent going away (even killed) closes the IPC channel: never outlive it.
  process.on('disconnect', () => process.exit(0));
  return server;
}
