/**
 * The child side of a bench server: listen on loopback, tell the parent the port, and answer its
 * IPC questions (CPU time, RSS, requests served) so the parent can charge cost to this process alone.
 */
import http from 'node:http';

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
  process.on('message', (message) => {
    if (message.type === 'stats') {
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
