/**
 * The usage figures an upstream reported, read as the bytes pass, are the same in the log entry,
 * in `onFinish`, in Prometheus and in OpenTelemetry, for every API in both modes.
 */
import { Registry } from 'prom-client';
import request from 'supertest';
import type { FinishHookEntry, ProviderConfig, Usage } from '../../lib/index.js';
import { provider, trackedApps } from '../kit/app.js';
import { messagesUpstream } from '../kit/messages-upstream.js';
import { histogramPoints, otelMeter, scrape, valueOf } from '../kit/observability.js';
import { responsesUpstream } from '../kit/responses-upstream.js';
import { timedPost, waitFor } from '../kit/stream-client.js';
import { failOnUnhandledErrors } from '../kit/unhandled.js';
import type { UpstreamHandler } from '../kit/upstream.js';
import { chunkEvent, completion, useUpstream } from '../kit/upstream.js';

const upstream = useUpstream();
failOnUnhandledErrors();

// Routers and servers close after each test even when it fails half-way, so jest can exit.
const { tracked, serve } = trackedApps();

const openAiUsage = { prompt_tokens: 31, completion_tokens: 17, total_tokens: 48, prompt_tokens_details: { cached_tokens: 8 }, completion_tokens_details: { reasoning_tokens: 5 } };
const openAiExpected: Usage = { input_tokens: 31, output_tokens: 17, total_tokens: 48, cached_input_tokens: 8, reasoning_tokens: 5 };

/** OpenAI-compatible chat, completions and embeddings, with the usage above (a stream's usage chunk comes last). */
const openAi: UpstreamHandler = (_req, res, seen) => {
  if (seen.url.endsWith('/embeddings')) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ object: 'list', data: [{ object: 'embedding', index: 0, embedding: [0.5] }], model: 'upstream-embed', usage: { prompt_tokens: 9, total_tokens: 9 } }));
  } else if (seen.json?.stream === true) {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(chunkEvent('upstream-gpt', 'Hel'));
    res.write(chunkEvent('upstream-gpt', 'lo', 'stop'));
    res.write(`data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', choices: [], usage: openAiUsage })}\n\n`);
    res.end('data: [DONE]\n\n');
  } else {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ...completion('upstream-gpt'), usage: openAiUsage }));
  }
};

interface Case {
  api: string;
  path: string;
  stream: boolean;
  body: Record<string, unknown>;
  handler: () => UpstreamHandler;
  provider: (baseUrl: string) => ProviderConfig;
  headers?: Record<string, string>;
  expected: Usage;
}

const openAiProvider = (baseUrl: string) => provider(baseUrl);
const anthropicProvider = (baseUrl: string) => ({ id: 1, key: 'claude', type: 'anthropic', baseUrl, apiKey: 'sk-ant', models: { 'claude-test': 'claude-upstream-1' } }) as unknown as ProviderConfig;
const messagesUsage = { input_tokens: 21, output_tokens: 8, cache_read_input_tokens: 4 };
const responsesUsage = { input_tokens: 13, cached_tokens: 2, output_tokens: 9, reasoning_tokens: 3 };

const CASES: Case[] = [false, true].flatMap((stream): Case[] => {
  const chat = { api: 'chat', path: '/v1/chat/completions', stream, body: { model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }], stream, ...(stream ? { stream_options: { include_usage: true } } : {}) }, handler: () => openAi, provider: openAiProvider, expected: openAiExpected };
  const completions = { ...chat, api: 'completions', path: '/v1/completions', body: { model: 'gpt-test', prompt: 'hi', stream, ...(stream ? { stream_options: { include_usage: true } } : {}) } };
  const messages = {
    api: 'messages',
    path: '/v1/messages',
    stream,
    body: { model: 'claude-test', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }], stream },
    headers: { 'anthropic-version': '2023-06-01' },
    handler: () => messagesUpstream({ usage: messagesUsage }),
    provider: anthropicProvider,
    expected: { input_tokens: 21, output_tokens: 8, total_tokens: 29, cached_input_tokens: 4 },
  };
  const responses = {
    api: 'responses',
    path: '/v1/responses',
    stream,
    body: { model: 'gpt-test', input: 'hi', stream },
    handler: () => responsesUpstream({ usage: responsesUsage }),
    provider: openAiProvider,
    expected: { input_tokens: 13, output_tokens: 9, total_tokens: 22, cached_input_tokens: 2, reasoning_tokens: 3 },
  };
  const embeddings = { api: 'embeddings', path: '/v1/embeddings', stream: false, body: { model: 'embed-test', input: 'hi' }, handler: () => openAi, provider: openAiProvider, expected: { input_tokens: 9, output_tokens: 0, total_tokens: 9 } };
  return stream ? [chat, completions, messages, responses] : [chat, completions, embeddings, messages, responses];
});

async function run(c: Case) {
  upstream.setHandler(c.handler());
  const registry = new Registry();
  const otel = otelMeter();
  const finished: FinishHookEntry[] = [];
  const { app, router, entries } = tracked({ providers: [c.provider(upstream.baseUrl)], heartbeatMs: 0, metrics: { registry, meter: otel.meter }, hooks: { onFinish: (e) => void finished.push(e) } });
  const url = `/llm${c.path}`;
  if (c.stream) {
    const server = await serve(app);
    const res = timedPost(server.url + url, c.body, c.headers);
    expect((await res.headers).statusCode).toBe(200);
    await res.done;
    await server.close();
  } else {
    await request(app).post(url).set(c.headers ?? {}).send(c.body).expect(200);
  }
  await waitFor(() => entries.length === 1 && finished.length === 1, 3000, 'the log entry and onFinish');
  const samples = await scrape(registry);
  const labels = { api: c.api, provider: c.provider('').key, model: String(c.body.model) };
  const tokens = histogramPoints(await otel.collect(), 'gen_ai.client.token.usage');
  const otelSum = (type: string) => tokens.find((p) => p.attributes['gen_ai.token.type'] === type)?.sum;
  await router.close();
  await otel.close();
  return {
    log: entries[0].usage,
    onFinish: finished[0].usage,
    prometheus: { input: valueOf(samples, 'llm_proxy_tokens_total', { ...labels, type: 'input' }), output: valueOf(samples, 'llm_proxy_tokens_total', { ...labels, type: 'output' }) },
    otel: { input: otelSum('input'), output: otelSum('output') },
  };
}

describe.each(CASES.map((c) => [`${c.api} ${c.stream ? 'stream' : 'JSON'}`, c] as const))('usage of %s', (_name, c) => {
  it('is the same in the log, onFinish, Prometheus and OpenTelemetry', async () => {
    const seen = await run(c);
    expect(seen.log).toEqual(c.expected);
    expect(seen.onFinish).toEqual(c.expected);
    // Prometheus counts only what is there (an embedding has no output); OTel skips an embedding's output.
    expect(seen.prometheus).toEqual({ input: c.expected.input_tokens, output: c.expected.output_tokens || undefined });
    expect(seen.otel).toEqual({ input: c.expected.input_tokens, output: c.api === 'embeddings' ? undefined : c.expected.output_tokens });
  });
});
