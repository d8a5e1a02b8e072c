/**
 * A host that installed neither prom-client nor @opentelemetry/api compiles against the package's
 * types with `skipLibCheck` off: the observability options are typed by the members the router
 * needs, and nothing the main entry's types reach imports either package.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { dist, ensureDist, root } from '../fixtures/ensure-dist.js';

const OPTIONAL = new Set(['prom-client', '@opentelemetry', 'express-llm-proxy', '.bin']);

let work: string;
beforeAll(() => {
  ensureDist();
  work = mkdtempSync(path.join(tmpdir(), 'llm-proxy-optional-'));
  const modules = path.join(work, 'node_modules');
  mkdirSync(modules);
  for (const entry of readdirSync(path.join(root, 'node_modules'))) {
    if (!OPTIONAL.has(entry)) symlinkSync(path.join(root, 'node_modules', entry), path.join(modules, entry));
  }
  // A copy, not a link: resolving from a link's real path would find the project's own node_modules.
  const pkg = path.join(modules, 'express-llm-proxy');
  mkdirSync(pkg);
  cpSync(dist, path.join(pkg, 'dist'), { recursive: true });
  cpSync(path.join(root, 'package.json'), path.join(pkg, 'package.json'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

test('the main entry\u2019s types compile without the optional packages, skipLibCheck off', () => {
  expect(existsSync(path.join(work, 'node_modules/prom-client'))).toBe(false);
  expect(existsSync(path.join(work, 'node_modules/@opentelemetry'))).toBe(false);
  writeFileSync(path.join(work, 'package.json'), JSON.stringify({ name: 'host', private: true, type: 'module' }));
  writeFileSync(
    path.join(work, 'index.ts'),
    `import express from 'express';
import { createLlmProxyRouter } from 'express-llm-proxy';
import type { FinishHookEntry, LlmProxyOptions } from 'express-llm-proxy';
const seen: FinishHookEntry[] = [];
const options: LlmProxyOptions = {
  providers: [],
  usage: { includeInStreams: true },
  logFields: (req) => ({ tenant: req.get('x-tenant') }),
  hooks: { onRequest: ({ reject }) => reject(403, 'no'), onFinish: (entry) => void seen.push(entry) },
};
express().use(createLlmProxyRouter(options));
`,
  );
  const compilerOptions = { module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', strict: true, exactOptionalPropertyTypes: true, noEmit: true, skipLibCheck: false, types: ['node'] };
  writeFileSync(path.join(work, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['index.ts'] }));
  const result = spawnSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', work], { cwd: work, encoding: 'utf8' });
  expect(`${result.stdout}${result.stderr}`).toBe('');
  expect(result.status).toBe(0);
}, 120_000);
