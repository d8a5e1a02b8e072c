/**
 * A CommonJS host `require()`s the built package (dist/, ESM loaded through require(esm) on
 * Node >= 20.19) in a child process, mounts the router and proxies one request to a real upstream.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { dist, ensureDist, root } from '../fixtures/ensure-dist.js';
import type { TestUpstream } from '../kit/upstream.js';
import { okJson, startUpstream } from '../kit/upstream.js';

const fixture = path.join(root, '__tests__/fixtures/cjs-host.cjs');

/** Runs the fixture with node and parses the one JSON line it prints. */
function runHost(...args: string[]): Promise<{ code: number | null; stderr: string; result: Record<string, any> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fixture, ...args], { cwd: root, env: { ...process.env, NODE_NO_WARNINGS: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill(), 15_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const line = stdout.trim().split('\n').pop() ?? '';
      try {
        resolve({ code, stderr, result: JSON.parse(line) });
      } catch {
        reject(new Error(`host printed no JSON (exit ${code}): ${stdout}\n${stderr}`));
      }
    });
  });
}

let upstream: TestUpstream;
beforeAll(async () => {
  ensureDist();
  upstream = await startUpstream(okJson);
}, 60_000);
afterAll(() => upstream?.close());

describe('CommonJS host', () => {
  it('require()s the built package by name, mounts the router and proxies a request', async () => {
    const { code, stderr, result } = await runHost('proxy', upstream.baseUrl);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(result.resolved).toBe(path.join(dist, 'index.js'));
    expect(result.status).toBe(200);
    expect(result.provider).toBe('cjs');
    expect(result.body).toMatchObject({ object: 'chat.completion', model: 'upstream-cjs' });
    expect(result.home).toBe('cjs host');
    expect(upstream.requests).toHaveLength(1);
    expect(upstream.requests[0].json).toEqual({ model: 'upstream-cjs', messages: [{ role: 'user', content: 'from cjs' }] });
    expect(upstream.requests[0].headers.authorization).toBe('Bearer sk-cjs');
  });

  it('gets the same errors module from both entries, and fail-fast errors a CommonJS caller can test', async () => {
    const { result } = await runHost('proxy', upstream.baseUrl);
    expect(result.sameClassifier).toBe(true);
    expect(result.misuse).toEqual({ name: 'InvalidOptionError', option: 'options', isInvalidOption: true });
  });

  it('require("express-llm-proxy/errors") does not load Express', async () => {
    const { code, result } = await runHost('errors-only');
    expect(code).toBe(0);
    expect(result.resolved).toBe(path.join(dist, 'errors/index.js'));
    expect(result.exports).toEqual(expect.arrayContaining(['classifyError', 'InvalidOptionError', 'UpstreamTimeoutError', 'ClientClosedRequestError', 'LlmProxyError']));
    expect(result.classified).toMatchObject({ kind: 'connection', status: 502 });
    expect(result.expressLoaded).toEqual([]);
    // The control: the main entry does load Express, and require.cache shows it.
    const control = await runHost('proxy', upstream.baseUrl);
    expect(control.result.expressLoadedByPackage).toBe(true);
  });
});
