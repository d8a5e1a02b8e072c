/**
 * Claude Code and Codex CLI, the real binaries, offline, through the router to the Messages and
 * Responses mocks: each finishes its one-shot task and prints the mock's answer, with the model
 * mapped and the provider's key (not the client's) upstream.
 *
 * The CLIs are large native packages, so they are not dev dependencies: `.ci/run` installs them
 * into `.agents/` (git-ignored), or `AGENT_CLIS_DIR` names another install. Without them this suite
 * is skipped with a notice; with `REQUIRE_AGENTS=1` (CI sets it) it fails instead.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { root } from '../fixtures/ensure-dist.js';
import { buildApp, listen } from '../kit/app.js';
import { messagesUpstream } from '../kit/messages-upstream.js';
import { responsesUpstream } from '../kit/responses-upstream.js';
import type { TestUpstream } from '../kit/upstream.js';
import { startUpstream } from '../kit/upstream.js';
import type { LlmProxyRouter } from '../../lib/index.js';

const binDir = path.join(process.env.AGENT_CLIS_DIR ?? path.join(root, '.agents'), 'node_modules', '.bin');
const claude = path.join(binDir, 'claude');
const codex = path.join(binDir, 'codex');
const present = existsSync(claude) && existsSync(codex);
if (!present) {
  if (process.env.REQUIRE_AGENTS === '1') throw new Error(`REQUIRE_AGENTS=1 but Claude Code and Codex are not installed in ${binDir}`);
  console.warn(`coding-agents: skipped (no claude/codex in ${binDir}; .ci/run installs them)`);
}
const describeAgents = present ? describe : describe.skip;

const CLIENT_KEY = 'client-key-agents';
const ANTHROPIC_KEY = 'sk-ant-upstream-agents';
const OPENAI_KEY = 'sk-openai-upstream-agents';
const CLAUDE_TEXT = ['Claude ', 'through ', 'the ', 'proxy'];
const CODEX_TEXT = 'Codex through the proxy';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], env: Record<string, string>, cwd: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(file, args, { env, cwd, timeout: 90_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: unknown }).code as number | null) ?? 1 : 0, stdout, stderr });
    });
    child.stdin?.end(); // Codex reads more input from stdin until it closes
  });
}

describeAgents('coding agents through the router', () => {
  const claudeMock = messagesUpstream({ apiKey: ANTHROPIC_KEY, text: CLAUDE_TEXT });
  const codexMock = responsesUpstream({ apiKey: OPENAI_KEY, text: CODEX_TEXT });
  let anthropicUpstream: TestUpstream;
  let openaiUpstream: TestUpstream;
  let router: LlmProxyRouter;
  let entries: Record<string, unknown>[];
  let proxy: Awaited<ReturnType<typeof listen>>;
  let home: string;
  let baseEnv: Record<string, string>;

  beforeAll(async () => {
    anthropicUpstream = await startUpstream(claudeMock);
    openaiUpstream = await startUpstream(codexMock);
    const built = buildApp({
      providers: [
        { id: 1, key: 'anthropic', type: 'anthropic', baseUrl: anthropicUpstream.baseUrl, apiKey: ANTHROPIC_KEY, models: { 'claude-test': 'claude-upstream-1' } },
        { id: 2, key: 'openai', baseUrl: openaiUpstream.baseUrl, apiKey: OPENAI_KEY, models: { 'gpt-test': 'gpt-upstream-1' } },
      ],
      apiKeys: [CLIENT_KEY],
      retry: { maxAttempts: 1 },
    });
    router = built.router;
    entries = built.entries;
    proxy = await listen(built.app);
    home = mkdtempSync(path.join(os.tmpdir(), 'llm-proxy-agents-'));
    mkdirSync(path.join(home, 'work'));
    // Nothing of the host's environment: no real keys, no proxies, no network beyond the router.
    baseEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, LANG: 'C.UTF-8', NO_COLOR: '1' };
  }, 30_000);
  afterAll(async () => {
    await router?.close();
    await proxy?.close();
    await anthropicUpstream?.close();
    await openaiUpstream?.close();
    if (home) rmSync(home, { recursive: true, force: true });
  });
  beforeEach(() => {
    anthropicUpstream.requests.length = 0;
    openaiUpstream.requests.length = 0;
    entries.length = 0;
  });

  const claudeEnv = (): Record<string, string> => ({
    ...baseEnv,
    ANTHROPIC_BASE_URL: `${proxy.url}/llm`,
    ANTHROPIC_API_KEY: CLIENT_KEY,
    ANTHROPIC_MODEL: 'claude-test',
    ANTHROPIC_SMALL_FAST_MODEL: 'claude-test',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_TELEMETRY: '1',
    DISABLE_AUTOUPDATER: '1',
  });

  it('Claude Code (claude -p): streams the answer through /v1/messages?beta=true with its anthropic-beta header, the model mapped, the provider key upstream', async () => {
    const result = await run(claude, ['-p', 'hi'], claudeEnv(), path.join(home, 'work'));
    expect({ code: result.code, stderr: result.stderr }).toMatchObject({ code: 0 });
    expect(result.stdout.trim()).toBe(CLAUDE_TEXT.join(''));
    const messages = anthropicUpstream.requests.filter((r) => r.url.startsWith('/v1/messages'));
    expect(messages.length).toBeGreaterThanOrEqual(1);
    for (const sent of messages) {
      expect(sent.url).toBe('/v1/messages?beta=true');
      expect(sent.json).toMatchObject({ model: 'claude-upstream-1', stream: true });
      expect(sent.headers['x-api-key']).toBe(ANTHROPIC_KEY);
      expect(sent.headers['anthropic-beta']).toEqual(expect.stringContaining('claude-code-'));
      expect(sent.headers.authorization).toBeUndefined();
    }
    const logged = entries.filter((e) => e.api === 'messages');
    expect(logged[0]).toMatchObject({ status: 200, provider: 'anthropic', model: 'claude-test', upstream_model: 'claude-upstream-1' });
    expect(logged[0]).toHaveProperty('ttft');
  }, 120_000);

  it('Claude Code: an upstream overloaded_error mid-stream reaches it as the Anthropic error event, and its own fallback still finishes the task', async () => {
    claudeMock.script('stream:overloaded_error');
    const result = await run(claude, ['-p', 'hi'], claudeEnv(), path.join(home, 'work'));
    expect({ code: result.code, stderr: result.stderr }).toMatchObject({ code: 0 });
    expect(result.stdout.trim()).toBe(CLAUDE_TEXT.join(''));
    expect(entries.find((e) => e.api === 'messages')).toMatchObject({ status: 200, stream_error: 'upstream_error_event' });
    expect(anthropicUpstream.requests.filter((r) => r.url.startsWith('/v1/messages')).length).toBeGreaterThanOrEqual(2);
  }, 120_000);

  it('Codex CLI (codex exec, wire_api = "responses"): streams the answer through /v1/responses with the model mapped and the provider key upstream', async () => {
    const codexHome = path.join(home, 'codex');
    mkdirSync(codexHome, { recursive: true });
    writeFileSync(
      path.join(codexHome, 'config.toml'),
      [
        'model = "gpt-test"',
        'model_provider = "proxy"',
        'check_for_update_on_startup = false',
        '',
        '[model_providers.proxy]',
        'name = "express-llm-proxy"',
        `base_url = "${proxy.url}/llm/v1"`,
        'env_key = "LLM_PROXY_KEY"',
        'wire_api = "responses"',
        'request_max_retries = 0',
        'stream_max_retries = 0',
        '',
        '[analytics]',
        'enabled = false',
        '',
        '[feedback]',
        'enabled = false',
        '',
      ].join('\n'),
    );
    const result = await run(codex, ['exec', '--skip-git-repo-check', 'hi'], { ...baseEnv, CODEX_HOME: codexHome, LLM_PROXY_KEY: CLIENT_KEY }, path.join(home, 'work'));
    expect({ code: result.code, error: result.stderr.match(/^ERROR.*$/m)?.[0] }).toEqual({ code: 0, error: undefined });
    expect(result.stdout).toContain(CODEX_TEXT);
    const sent = openaiUpstream.requests.filter((r) => r.url === '/v1/responses');
    expect(sent).toHaveLength(1);
    expect(sent[0].json).toMatchObject({ model: 'gpt-upstream-1', stream: true, store: false });
    expect(sent[0].headers.authorization).toBe(`Bearer ${OPENAI_KEY}`);
    expect(entries.find((e) => e.api === 'responses')).toMatchObject({ status: 200, provider: 'openai', model: 'gpt-test', upstream_model: 'gpt-upstream-1' });
  }, 120_000);
});
