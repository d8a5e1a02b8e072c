/**
 * Top self-time functions of a `.cpuprofile`: `node bench/profile-top.mjs <file> [count]`.
 * Self time per sample is the gap to the next sample, summed per (function, url, line).
 */
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';

/** Where a function lives: a package, our dist/, Node's own JS, or native work (GC, syscalls). */
function groupOf(key) {
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(key);
  if (pkg) return pkg[1];
  if (key.includes('dist/')) return 'express-llm-proxy (dist/)';
  if (key.includes('bench/')) return 'bench';
  if (key.includes(' node:')) return 'node core JS';
  if (key.startsWith('(garbage collector)')) return '(garbage collector)';
  return 'native (syscalls, program, builtins)';
}

export async function topSelfTime(file, count = 25) {
  const profile = JSON.parse(await readFile(file, 'utf8'));
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map();
  let total = 0;
  for (let i = 0; i < profile.samples.length; i += 1) {
    const dt = profile.timeDeltas[i + 1] ?? 0;
    const { callFrame } = nodes.get(profile.samples[i]);
    const where = callFrame.url ? `${callFrame.url.replace(/^file:\/\/.*?\/(node_modules|dist|bench)\//, '$1/')}:${callFrame.lineNumber + 1}` : '';
    const key = `${callFrame.functionName || '(anonymous)'} ${where}`.trim();
    self.set(key, (self.get(key) ?? 0) + dt);
    total += dt;
  }
  const busy = total - (self.get('(idle)') ?? 0);
  const groups = new Map();
  for (const [key, us] of self) {
    if (key === '(idle)') continue;
    const group = groupOf(key);
    groups.set(group, (groups.get(group) ?? 0) + us);
  }
  const rows = [...self.entries()].filter(([key]) => key !== '(idle)').sort((a, b) => b[1] - a[1]).slice(0, count);
  const byGroup = [...groups.entries()].sort((a, b) => b[1] - a[1]).map(([name, us]) => ({ name, ms: us / 1000, percentOfBusy: (us / busy) * 100 }));
  return { totalMs: total / 1000, busyMs: busy / 1000, byGroup, rows: rows.map(([name, us]) => ({ name, ms: us / 1000, percentOfBusy: (us / busy) * 100 })) };
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { busyMs, rows, byGroup } = await topSelfTime(process.argv[2], Number(process.argv[3] ?? 25));
  console.log(`busy ${busyMs.toFixed(0)} ms; by origin:`);
  for (const row of byGroup) console.log(`${row.percentOfBusy.toFixed(1).padStart(5)}%  ${row.ms.toFixed(0).padStart(6)} ms  ${row.name}`);
  console.log('top self time:');
  for (const row of rows) console.log(`${row.percentOfBusy.toFixed(1).padStart(5)}%  ${row.ms.toFixed(0).padStart(6)} ms  ${row.name}`);
}
