/**
 * The README's TypeScript compiles as a host would compile it: every ```ts block, against the
 * built package's types (installed as `node_modules/express-llm-proxy`), with `strict` and
 * `exactOptionalPropertyTypes`, under the README's own tsconfig for an ESM host and for a
 * CommonJS host.
 *
 * Block tags (words after the language, invisible on GitHub):
 * - ```ts               a whole module, compiled as it is;
 * - ```ts fragment      uses names a real app defines elsewhere (`app`, `providers`, ...): FRAGMENT_CONTEXT declares them;
 * - ```ts ... esm       uses top-level `await`, which only an ES module may: left out of the CommonJS host;
 * - ```ts skip          not compiled (none yet; say why next to it).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ensureDist, root } from '../fixtures/ensure-dist.js';

/** What fragments may use without defining it; appended, so error lines match the README's. */
const FRAGMENT_CONTEXT = `
declare const app: import('express').Express;
declare const providers: import('express-llm-proxy').ProviderConfig[];
declare const logger: import('express-llm-proxy').Logger;
declare const clientKeys: string[];
declare const db: { findKey(key: string): Promise<{ team: string } | undefined> };
declare const res: import('node:http').ServerResponse;
declare const upstreamBody: import('node:stream').Readable;
declare const controller: AbortController;
`;

interface Block {
  lang: string;
  tag: string;
  code: string;
  /** The README line of the block's first code line. */
  line: number;
}

function blocks(markdown: string): Block[] {
  const found: Block[] = [];
  const fence = /^```(\w*)[ \t]*([^\n]*)\n([\s\S]*?)^```[ \t]*$/gm;
  for (let match = fence.exec(markdown); match; match = fence.exec(markdown)) {
    found.push({ lang: match[1], tag: match[2].trim(), code: match[3], line: markdown.slice(0, match.index).split('\n').length + 1 });
  }
  return found;
}

const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
const all = blocks(readme);
const ts = all.filter((block) => block.lang === 'ts');
const tagged = (block: Block, word: string): boolean => block.tag.split(/\s+/).includes(word);
const compiled = ts.filter((block) => !tagged(block, 'skip'));
/** An `await` at column 0, alone or in a declaration: code inside a function is indented. */
const TOP_LEVEL_AWAIT = /^(?:(?:const|let|var)\s+[\w{}\s,]+=\s*)?await\b/m;
const tsconfigOf = (tag: string): Record<string, unknown> => {
  const block = all.find((b) => b.lang === 'json' && b.tag === tag);
  if (!block) throw new Error(`README has no \`\`\`json ${tag} block`);
  return (JSON.parse(block.code) as { compilerOptions: Record<string, unknown> }).compilerOptions;
};

let work: string;

/** A host project of the given module kind with every compiled block as a file; returns tsc's output. */
function compile(kind: 'esm' | 'cjs'): { status: number | null; output: string } {
  const dir = path.join(work, kind);
  mkdirSync(dir);
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: `readme-${kind}`, private: true, type: kind === 'esm' ? 'module' : 'commonjs' }));
  const files = compiled
    .filter((block) => kind === 'esm' || !tagged(block, 'esm'))
    .map((block) => {
      const name = `readme-line-${block.line}.ts`;
      // `export {}` keeps every file a module, so the fragments' declarations do not collide.
      writeFileSync(path.join(dir, name), `${block.code}\nexport {};\n${tagged(block, 'fragment') ? FRAGMENT_CONTEXT : ''}`);
      return name;
    });
  const compilerOptions = { ...tsconfigOf(`${kind}-host`), noEmit: true, types: ['node'], skipLibCheck: true };
  writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files }));
  const result = spawnSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', dir], { cwd: dir, encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

beforeAll(() => {
  ensureDist();
  work = mkdtempSync(path.join(tmpdir(), 'llm-proxy-readme-'));
  // node_modules as a consumer has it: the package by name, beside its dependencies.
  const modules = path.join(work, 'node_modules');
  mkdirSync(modules);
  for (const entry of readdirSync(path.join(root, 'node_modules'))) {
    if (entry !== '.bin' && entry !== 'express-llm-proxy') symlinkSync(path.join(root, 'node_modules', entry), path.join(modules, entry));
  }
  symlinkSync(root, path.join(modules, 'express-llm-proxy'), 'dir');
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('README TypeScript', () => {
  it('tags every ts block, and compiles nearly all of them', () => {
    const unknown = ts.filter((block) => block.tag.split(/\s+/).some((word) => !['', 'fragment', 'esm', 'skip'].includes(word)));
    expect(unknown.map((b) => `line ${b.line}: ${b.tag}`)).toEqual([]);
    expect(compiled.length).toBeGreaterThanOrEqual(10);
    expect(compiled.length).toBe(ts.length); // no block is skipped today
  });

  it('tags esm exactly the blocks with a top-level await', () => {
    expect(ts.filter((block) => tagged(block, 'esm')).map((b) => b.line)).toEqual(ts.filter((block) => TOP_LEVEL_AWAIT.test(block.code)).map((b) => b.line));
    expect(ts.filter((block) => tagged(block, 'esm')).length).toBeGreaterThan(0);
  });

  it('documents strict and exactOptionalPropertyTypes in both host tsconfigs', () => {
    for (const tag of ['esm-host', 'cjs-host']) {
      expect(tsconfigOf(tag)).toMatchObject({ strict: true, exactOptionalPropertyTypes: true, module: 'nodenext' });
    }
  });

  it.each<['esm' | 'cjs']>([['esm'], ['cjs']])('compiles in an %s host with the README tsconfig', (kind) => {
    const { status, output } = compile(kind);
    expect(output).toBe('');
    expect(status).toBe(0);
  }, 120_000);
});
