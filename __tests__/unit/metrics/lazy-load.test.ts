/**
 * prom-client and @opentelemetry/api are optional: importing the built package loads neither, and
 * each is loaded only when the recorder that needs it is created. Checked in a child process on
 * dist/, where Node's module cache shows what was loaded.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { dist, ensureDist, root } from '../../fixtures/ensure-dist.js';

const script = (metricsUrl: string, indexUrl: string) => `
import { createRequire } from 'node:module';
const cache = createRequire(import.meta.url).cache;
const loaded = () => [...new Set(Object.keys(cache).flatMap((file) => {
  const match = /node_modules[\\\\/](prom-client|@opentelemetry[\\\\/]api)[\\\\/]/.exec(file);
  return match ? [match[1].replace('\\\\', '/')] : [];
}))].sort();
const metrics = await import(${JSON.stringify(metricsUrl)});
const main = await import(${JSON.stringify(indexUrl)});
const router = main.createLlmProxyRouter({ providers: [{ id: 1, key: 'p', baseUrl: 'http://127.0.0.1:1/v1', models: { m: 'm' } }], logger: { log() {} }, hooks: { onFinish() {} }, usage: { includeInStreams: true } });
await router.close();
const afterImport = loaded();
metrics.createOtelMetrics({ meter: { createHistogram: () => ({ record() {} }) } });
const afterOtelMetrics = loaded();
metrics.createTracing({ tracer: { startSpan() {} } });
const afterTracing = loaded();
metrics.createPrometheusMetrics({ registry: { registerMetric() {}, getSingleMetric() {} } });
const afterPrometheus = loaded();
console.log(JSON.stringify({ afterImport, afterOtelMetrics, afterTracing, afterPrometheus }));
`;

test('nothing optional is loaded until its recorder is created (a router without metrics or tracing loads neither)', () => {
  const metricsEntry = path.join(dist, 'metrics/index.js');
  if (!existsSync(metricsEntry)) {
    const build = spawnSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: root, encoding: 'utf8' });
    expect(build.status).toBe(0);
  }
  ensureDist();
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script(pathToFileURL(metricsEntry).href, pathToFileURL(path.join(dist, 'index.js')).href)], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, NODE_NO_WARNINGS: '1' },
  });
  expect(run.stderr).toBe('');
  expect(JSON.parse(run.stdout.trim().split('\n').pop()!)).toEqual({
    afterImport: [],
    afterOtelMetrics: [],
    afterTracing: ['@opentelemetry/api'],
    afterPrometheus: ['@opentelemetry/api', 'prom-client'], // prom-client itself depends on @opentelemetry/api
  });
}, 60_000);
