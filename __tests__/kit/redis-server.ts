/**
 * A real redis-server for tests, on a free loopback port, without persistence. It can be killed
 * and started again on the same port (an outage), or paused (a Redis that stops answering).
 * Suites that need it use `describeWithRedis`: without redis-server they are skipped with a
 * notice, unless REQUIRE_REDIS=1 (CI), where they fail.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { createClient } from 'redis';
import { refusedPort } from './upstream.js';

export const REDIS_SERVER = process.env.REDIS_SERVER ?? '/usr/bin/redis-server';
export const hasRedisServer = existsSync(REDIS_SERVER);

/** `describe` for suites that need redis-server. */
export function describeWithRedis(name: string, suite: () => void): void {
  if (hasRedisServer) {
    describe(name, suite);
  } else if (process.env.REQUIRE_REDIS === '1') {
    describe(name, () => {
      it('needs redis-server', () => {
        throw new Error(`REQUIRE_REDIS=1 but ${REDIS_SERVER} does not exist (install redis-server or set REDIS_SERVER)`);
      });
    });
  } else {
    console.warn(`Skipping "${name}": ${REDIS_SERVER} not found. Install redis-server, or set REQUIRE_REDIS=1 to fail instead.`);
    describe.skip(name, suite);
  }
}

export interface TestRedis {
  port: number;
  url: string;
  /** SIGKILL: connections drop at once, and the data is gone (no persistence). */
  kill(): Promise<void>;
  /** Starts a fresh, empty server on the same port. */
  restart(): Promise<void>;
  /** SIGSTOP / SIGCONT: connections stay open but nothing is answered. */
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Resolves once the server answers PING; rejects if the process exits first or after `ms`. */
async function answering(child: ChildProcess, port: number, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  let exited = false;
  child.once('exit', () => (exited = true));
  while (!exited && Date.now() < until) {
    const pong = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
      socket.setTimeout(200, () => socket.destroy());
      socket.once('data', (data) => {
        socket.destroy();
        resolve(data.toString().startsWith('+PONG'));
      });
      socket.once('error', () => resolve(false));
      socket.once('close', () => resolve(false));
    });
    if (pong) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`redis-server on port ${port} did not start${exited ? ' (it exited: port taken?)' : ''}`);
}

function spawnServer(port: number): ChildProcess {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', tmpdir(), '--loglevel', 'warning'];
  const child = spawn(REDIS_SERVER, args, { stdio: 'ignore' });
  running.add(child);
  child.once('exit', () => running.delete(child));
  return child;
}

function exited(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

export async function startRedis(): Promise<TestRedis> {
  let child: ChildProcess | undefined;
  let port = 0;
  for (let attempt = 0; !child; attempt++) {
    port = await refusedPort();
    const candidate = spawnServer(port);
    try {
      await answering(candidate, port);
      child = candidate;
    } catch (error) {
      await exited(candidate, 'SIGKILL');
      if (attempt === 2) throw error; // another process took the free port: try another, twice
    }
  }
  let current = child;
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill: () => exited(current, 'SIGKILL'),
    async restart() {
      current = spawnServer(port);
      await answering(current, port);
    },
    pause: () => void current.kill('SIGSTOP'),
    resume: () => void current.kill('SIGCONT'),
    async stop() {
      current.kill('SIGCONT'); // a paused server would not act on SIGTERM
      await exited(current, 'SIGKILL');
    },
  };
}

/** A connected node-redis client that retries quickly (tests kill the server) and logs nothing. */
export async function connectClient(url: string) {
  const client = createClient({ url, socket: { reconnectStrategy: () => 50, connectTimeout: 1000 } });
  client.on('error', () => undefined); // the host's job; reconnects are expected here
  await client.connect();
  return client;
}
