/**
 * Two router instances in two processes (the built package, each its own node-redis client) behind
 * one real Redis: a request limit holds across them, and a breaker opened through one is respected
 * by the other within 1 s.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { dist, ensureDist, root } from '../fixtures/ensure-dist.js';
import { describeWithRedis, startRedis } from '../kit/redis-server.js';
import type { TestRedis } from '../kit/redis-server.js';
import type { TestUpstream } from '../kit/upstream.js';
import { okJson, sleep, startUpstream } from '../kit/upstream.js';

const fixture = path.join(root, '__tests__/fixtures/shared-router-child.mjs');
const PROPAGATION_MS = 1000;

/** A dist/ built before the shared-state options existed would not know them: build it again. */
function ensureSharedDist(): void {
  ensureDist();
  if (existsSync(path.join(dist, 'limits/rate-limiter.js')) && existsSync(path.join(dist, 'redis/index.js'))) return;
  const build = spawnSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: root, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`build failed:\n${build.stdout}${build.stderr}`);
}

/** Starts a child and resolves with the URL it prints. */
function startChild(args: string[], children: ChildProcessWithoutNullStreams[]): Promise<string> {
  const child = spawn(process.execPath, [fixture, ...args], { cwd: root, env: { ...process.env, NODE_NO_WARNINGS: '1' } });
  children.push(child);
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString().trim()));
    child.once('exit', (code) => reject(new Error(`child exited with ${code}: ${stderr}`)));
  });
}

describeWithRedis('router instances in two processes sharing one Redis', () => {
  let redis: TestRedis;
  let dead: TestUpstream;
  let good: TestUpstream;
  const children: ChildProcessWithoutNullStreams[] = [];
  let urls: string[];

  beforeAll(async () => {
    ensureSharedDist();
    redis = await startRedis();
    good = await startUpstream(okJson);
    dead = await startUpstream((_req, res) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end('{"error":{"message":"overloaded"}}');
    });
    const prefix = `t-${randomUUID()}:`;
    urls = await Promise.all([0, 1].map(() => startChild([redis.url, prefix, dead.baseUrl, good.baseUrl], children)));
  }, 60_000);
  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await good?.close();
    await dead?.close();
    await redis?.stop();
  });

  const post = (url: string, model: string, headers: Record<string, string> = {}) =>
    fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }) });

  it('admits exactly 10 of 30 concurrent requests under a 10-per-minute limit', async () => {
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => post(urls[i % 2], 'gpt-test', { 'x-tenant': 'shared' })));
    await Promise.all(answers.map((res) => res.text()));
    expect(answers.filter((res) => res.status === 200)).toHaveLength(10);
    expect(answers.filter((res) => res.status === 429)).toHaveLength(20);
  });

  it(`respects in process B, within ${PROPAGATION_MS} ms, a breaker opened through process A`, async () => {
    const [a, b] = urls;
    while (dead.requests.length < 2) await (await post(a, 'flaky')).text();
    const openOnB = async () => {
      const res = await fetch(`${b}/admin/v1/health`, { headers: { authorization: 'Bearer admin-key' } });
      const { breakers } = (await res.json()) as { breakers: { provider_id: number; state: string }[] };
      return breakers.some((pair) => pair.provider_id === 1 && pair.state === 'open');
    };
    const until = performance.now() + PROPAGATION_MS;
    while (!(await openOnB())) {
      if (performance.now() > until) throw new Error(`B did not see the breaker open within ${PROPAGATION_MS} ms`);
      await sleep(10);
    }
    for (let i = 0; i < 6; i++) {
      const res = await post(b, 'flaky');
      await res.text();
      expect(res.headers.get('x-llm-proxy-provider')).toBe('good');
    }
    expect(dead.requests).toHaveLength(2);
  });
});
