/**
 * The short soak (2,000 requests) inside `npm test`: runs `npm run soak`'s runner as a child
 * process against the built package and checks its report. `npm test` builds dist/ first.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

const ROOT = process.cwd();
const RUNNER = path.join(ROOT, '__tests__/kit/soak.mjs');

function runSoak(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [RUNNER, ...args], { cwd: ROOT, env: { ...process.env, NODE_OPTIONS: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (data: Buffer) => (stdout += data.toString()));
    child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('soak (short)', () => {
  it('2,000 mixed requests through one router: every outcome as expected, nothing leaks', async () => {
    expect(existsSync(path.join(ROOT, 'dist/index.js'))).toBe(true); // run `npm run build` first
    const { code, stdout, stderr } = await runSoak(['--count', '2000', '--duration-ms', '60000']);
    let report: Record<string, any>;
    try {
      report = JSON.parse(stdout);
    } catch {
      throw new Error(`soak printed no JSON report (exit ${code}):\n${stdout}\n${stderr}`);
    }
    expect(report.checks).toEqual({
      every_outcome_as_expected: true,
      no_unhandled_rejections: true,
      no_max_listeners_warnings: true,
      upstream_sockets_back_to_idle: true,
      upstream_sockets_closed_by_router_close: true,
      heap_growth_under_10mb: true,
    });
    expect(report.requests).toBe(2000);
    expect(report.unhandled_rejections).toBe(0);
    expect(report.max_listeners_warnings).toBe(0);
    expect(report.upstream_sockets.busy_after_run).toBe(0);
    expect(report.upstream_sockets.open_after_router_close).toBe(0);
    expect(report.heap_used_mb.growth).toBeLessThan(10);
    // every kind of request was exercised
    const kinds = new Set(Object.keys(report.outcomes).map((key) => key.split(':')[0]));
    expect([...kinds].sort()).toEqual(['aborted_stream', 'aborted_waiting', 'bad_input', 'hang', 'normal', 'reset_mid_body', 'reset_mid_stream', 'stream', 'upstream_500']);
    expect(code).toBe(0);
  }, 90_000);
});
