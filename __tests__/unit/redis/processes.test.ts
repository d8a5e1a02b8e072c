/**
 * Two processes, each with its own client and store from the built package, share one Redis: they
 * hit a 10-per-minute key at once and, between them, exactly 10 requests are admitted.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { dist, ensureDist, root } from '../../fixtures/ensure-dist.js';
import { describeWithRedis, startRedis } from '../../kit/redis-server.js';
import type { TestRedis } from '../../kit/redis-server.js';

const fixture = path.join(root, '__tests__/fixtures/redis-rate-child.mjs');

/** ensureDist() checks the main entries only; a dist/ built before the redis entry existed lacks it. */
function ensureRedisDist(): void {
  ensureDist();
  if (existsSync(path.join(dist, 'redis/index.js'))) return;
  const build = spawnSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: root, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`build failed:\n${build.stdout}${build.stderr}`);
}

function lines(child: ChildProcessWithoutNullStreams): () => Promise<string> {
  const queue: string[] = [];
  const waiting: ((line: string) => void)[] = [];
  let buffer = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    for (let i = buffer.indexOf('\n'); i !== -1; i = buffer.indexOf('\n')) {
      const line = buffer.slice(0, i);
      buffer = buffer.slice(i + 1);
      const next = waiting.shift();
      if (next) next(line);
      else queue.push(line);
    }
  });
  return () => (queue.length ? Promise.resolve(queue.shift()!) : new Promise((resolve) => waiting.push(resolve)));
}

describeWithRedis('Redis store across processes', () => {
  let redis: TestRedis;
  const children: ChildProcessWithoutNullStreams[] = [];
  beforeAll(async () => {
    ensureRedisDist();
    redis = await startRedis();
  }, 60_000);
  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await redis?.stop();
  });

  it('admits exactly 10 of 2 × 20 concurrent hits on a 10-per-minute key', async () => {
    const prefix = `t-${randomUUID()}:`;
    const spawned = [0, 1].map(() => {
      const child = spawn(process.execPath, [fixture, redis.url, prefix, 'shared-key', '20'], { cwd: root, env: { ...process.env, NODE_NO_WARNINGS: '1' } });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.once('exit', (code) => {
        if (code !== 0 && stderr) console.error(stderr);
      });
      children.push(child);
      return { child, next: lines(child) };
    });
    for (const { next } of spawned) expect(await next()).toBe('ready');
    for (const { child } of spawned) child.stdin.write('go\n');
    const results = await Promise.all(spawned.map(async ({ next }) => JSON.parse(await next()) as { admitted: number; unavailable: number }));
    expect(results.map((r) => r.unavailable)).toEqual([0, 0]);
    expect(results[0]!.admitted + results[1]!.admitted).toBe(10);
  });
});
