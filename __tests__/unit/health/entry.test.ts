/**
 * The `express-llm-proxy/health` entry, built with the package's own tsc config, run from a plain
 * Node process as a cron script would: it must work without Express ever being loaded.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { TestUpstream } from '../../kit/upstream.js';
import { okJson, startUpstream } from '../../kit/upstream.js';

const run = promisify(execFile);
const root = resolve('.');

// Express is CommonJS, so loading it (even from ESM) puts it in require.cache.
const SCRIPT = `
import { createRequire } from 'node:module';
const [entry, baseUrl] = process.argv.slice(2);
const mod = await import(entry);
let report;
if (mod.HealthCheckService) {
  const service = new mod.HealthCheckService({ providers: [{ id: 1, key: 'k', baseUrl, apiKey: 'sk-x', models: { a: 'up-a' } }] });
  report = await service.checkProvider(1, { timeoutMs: 5000 });
  await service.close();
}
const cache = Object.keys(createRequire(import.meta.url).cache);
console.log(JSON.stringify({ report, express: cache.filter((path) => /[\\\\/]node_modules[\\\\/]express4?[\\\\/]/.test(path)) }));
`;

let dir: string;
let upstream: TestUpstream;

beforeAll(async () => {
  upstream = await startUpstream(okJson);
  dir = await mkdtemp(join(tmpdir(), 'llm-proxy-health-entry-'));
  await writeFile(join(dir, 'package.json'), '{"type":"module"}');
  await writeFile(join(dir, 'script.mjs'), SCRIPT);
  await symlink(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
  // A fresh build into our own folder: dist/ may be stale or rebuilt by someone else meanwhile.
  // tsc still emits when another module has a type error, so only the emitted files matter here.
  await run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json'), '--outDir', join(dir, 'dist')], { cwd: root }).catch(() => undefined);
}, 120_000);

afterAll(async () => {
  await upstream.close();
  await rm(dir, { recursive: true, force: true });
});

async function script(entry: string): Promise<{ report?: { status: string; models: { status: string }[] }; express: string[] }> {
  const { stdout } = await run(process.execPath, [join(dir, 'script.mjs'), join(dir, 'dist', entry), upstream.baseUrl], { cwd: dir, timeout: 20_000 });
  return JSON.parse(stdout.trim().split('\n').pop() as string);
}

describe('express-llm-proxy/health entry', () => {
  it('checks a provider from a plain Node script without loading Express', async () => {
    const out = await script('health/index.js');
    expect(out.report?.status).toBe('healthy');
    expect(upstream.requests.map((r) => r.url)).toEqual(['/v1/chat/completions']);
    expect(out.express).toEqual([]);
  }, 30_000);

  it('the check can fail: the main entry does load Express', async () => {
    const out = await script('index.js');
    expect(out.express.length).toBeGreaterThan(0);
  }, 30_000);
});
