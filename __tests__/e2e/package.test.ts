/**
 * The package as npm publishes it: `npm pack` on a copy of the project (so `prepack` builds a
 * clean dist/ without touching the one other tests run), then the tarball is read as a consumer
 * gets it: engines, scripts, LICENSE, every entry point, and source maps that point at files it ships.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { root } from '../fixtures/ensure-dist.js';

let work: string;
let pkg: string;
let packed: { files: { path: string }[]; filename: string };

function run(command: string, args: string[], cwd: string): string {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_loglevel: 'error', NODE_NO_WARNINGS: '1' } });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.status}):\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? walk(path.join(dir, entry.name)) : [path.join(dir, entry.name)]));
}

beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), 'llm-proxy-pack-'));
  const project = path.join(work, 'project');
  mkdirSync(project);
  for (const name of ['package.json', 'README.md', 'LICENSE', 'tsconfig.json', 'tsconfig.build.json', 'lib']) {
    cpSync(path.join(root, name), path.join(project, name), { recursive: true });
  }
  symlinkSync(path.join(root, 'node_modules'), path.join(project, 'node_modules'), 'dir');
  const out = path.join(work, 'out');
  mkdirSync(out);
  // Not --ignore-scripts: prepack is what builds the published dist/.
  const stdout = run('npm', ['pack', '--json', '--pack-destination', out], project);
  packed = JSON.parse(stdout.slice(stdout.indexOf('[')))[0];
  run('tar', ['-xzf', path.join(out, packed.filename), '-C', work], work);
  pkg = path.join(work, 'package');
}, 180_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the packed tarball', () => {
  it('asks for a Node that can require() it, and runs no script on a consumer’s install', () => {
    const manifest = JSON.parse(readFileSync(path.join(pkg, 'package.json'), 'utf8'));
    // require(esm) is on by default from Node 20.19 (and 22.12; the README says which need a flag).
    expect(manifest.engines).toEqual({ node: '>=20.19' });
    for (const script of ['prepare', 'preinstall', 'install', 'postinstall']) expect(manifest.scripts ?? {}).not.toHaveProperty(script);
    expect(manifest.scripts.prepack).toMatch(/npm run build/);
  });

  it('ships a LICENSE that matches package.json', () => {
    const manifest = JSON.parse(readFileSync(path.join(pkg, 'package.json'), 'utf8'));
    expect(manifest.license).toBe('MIT');
    expect(readFileSync(path.join(pkg, 'LICENSE'), 'utf8')).toMatch(/^MIT License\n\nCopyright \(c\) \d{4} /);
  });

  it('ships every file the exports map points at', () => {
    const manifest = JSON.parse(readFileSync(path.join(pkg, 'package.json'), 'utf8'));
    const targets = Object.values(manifest.exports as Record<string, string | Record<string, string>>).flatMap((target) => (typeof target === 'string' ? [target] : Object.values(target)));
    expect(targets.length).toBeGreaterThan(8);
    for (const target of [...targets, manifest.main, manifest.types]) expect(existsSync(path.join(pkg, target))).toBe(true);
  });

  it('has source maps only where the sources they name are shipped too', () => {
    const files = walk(pkg);
    const maps = files.filter((file) => file.endsWith('.map'));
    expect(maps.length).toBeGreaterThan(20);
    const missing: string[] = [];
    for (const map of maps) {
      const { sources, sourceRoot = '' } = JSON.parse(readFileSync(map, 'utf8')) as { sources: string[]; sourceRoot?: string };
      for (const source of sources) {
        const resolved = path.resolve(path.dirname(map), sourceRoot, source);
        if (!resolved.startsWith(pkg + path.sep) || !existsSync(resolved)) missing.push(`${path.relative(pkg, map)} -> ${source}`);
      }
    }
    expect(missing).toEqual([]);
    // And every sourceMappingURL comment names a map that is there.
    for (const file of files.filter((f) => f.endsWith('.js') || f.endsWith('.d.ts'))) {
      const url = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(readFileSync(file, 'utf8'))?.[1];
      if (url !== undefined) expect(existsSync(path.resolve(path.dirname(file), url))).toBe(true);
    }
  });

  it('holds no tests, benchmarks or examples', () => {
    const paths = packed.files.map((file) => file.path);
    expect(paths.filter((p) => /^(__tests__|bench|examples|scripts)\//.test(p) || /\.test\./.test(p))).toEqual([]);
    expect(paths).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'package.json', 'dist/index.js', 'dist/index.d.ts', 'lib/index.ts']));
  });
});
