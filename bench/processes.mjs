/** The parent side: fork a bench server, wait for its port, ask it for stats, stop it. */
import { fork, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const STARTUP_MS = 15_000;
const REPLY_MS = 10_000;

/**
 * Forks `script` (relative to bench/servers) and resolves once it listens.
 * @returns {Promise<BenchServer>}
 */
export function startServer(name, script, args = [], execArgv = []) {
  const child = fork(fileURLToPath(new URL(`./servers/${script}`, import.meta.url)), args, {
    execArgv: ['--expose-gc', ...execArgv],
    // stdout to /dev/null: the default logger writes a JSON line per request there, as it would to
    // a log file or a pipe in production; the bench's own output stays readable.
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  let nextId = 0;
  const pending = new Map();
  child.on('message', (message) => {
    const waiter = pending.get(message.id);
    if (waiter) {
      pending.delete(message.id);
      clearTimeout(waiter.timer);
      waiter.resolve(message);
    }
  });
  const ask = (message) =>
    new Promise((resolve, reject) => {
      const id = ++nextId;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`${name} did not answer ${message.type} within ${REPLY_MS} ms`));
      }, REPLY_MS);
      pending.set(id, { resolve, reject, timer });
      child.send({ ...message, id });
    });

  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} did not start within ${STARTUP_MS} ms`));
    }, STARTUP_MS);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code} before it listened`));
    });
    child.on('message', function onReady(message) {
      if (message.type !== 'ready') return;
      clearTimeout(timer);
      child.removeListener('message', onReady);
      resolve({
        name,
        pid: child.pid,
        port: message.port,
        origin: `http://127.0.0.1:${message.port}`,
        /** `{ cpu: { user, system } µs, rss bytes, served requests }`; `gc` first when asked. */
        stats: (gc = false) => ask({ type: 'stats', gc }),
        ask,
        /** Asks for a clean exit (so `--cpu-prof` is written), then kills after a grace period. */
        stop: () =>
          new Promise((done) => {
            if (child.exitCode !== null || child.signalCode !== null) {
              done();
              return;
            }
            const killer = setTimeout(() => child.kill('SIGKILL'), 3000);
            child.once('exit', () => {
              clearTimeout(killer);
              done();
            });
            if (child.connected) child.send({ type: 'exit' });
            else child.kill('SIGTERM');
          }),
      });
    });
  });
}

/** CPU µs and requests between two `stats()` answers. */
export function delta(before, after) {
  const cpuUs = after.cpu.user - before.cpu.user + (after.cpu.system - before.cpu.system);
  const served = after.served - before.served;
  return { cpuUs, served, cpuPerRequest: served > 0 ? cpuUs / served : null };
}

/** Pins processes (all their threads) to one CPU; needs taskset (util-linux). */
export function pin(cpu, ...pids) {
  for (const pid of pids) {
    const result = spawnSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)], { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`--pin: taskset failed for ${pid}: ${result.stderr || result.error}`);
  }
}
