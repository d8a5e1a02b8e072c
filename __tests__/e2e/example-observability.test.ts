/** examples/observability: its `/metrics` scraped as Prometheus would, after traffic through the proxy. */
import OpenAI from 'openai';
import request from 'supertest';
import { createObservabilityApp } from '../../examples/observability/index.js';
import type { ObservabilityApp } from '../../examples/observability/index.js';
import { listen } from '../kit/app.js';
import { parseExposition, valueOf } from '../kit/observability.js';
import { sleep } from '../kit/upstream.js';

let example: ObservabilityApp;
let host: Awaited<ReturnType<typeof listen>>;
beforeAll(async () => {
  example = await createObservabilityApp({ routerOptions: { logRequests: false } });
  host = await listen(example.app);
});
afterAll(async () => {
  await host.close();
  await example.close();
});

const hello = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'Hello, proxy!' }] };

/** GET /metrics until the proxy has recorded `count` requests (it records just after each one ends). */
async function metricsAfter(count: number) {
  for (let tries = 0; tries < 300; tries++) {
    const res = await request(example.app).get('/metrics').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const samples = parseExposition(res.text);
    const total = samples.filter((s) => s.name === 'llm_proxy_requests_total').reduce((n, s) => n + s.value, 0);
    if (total >= count) return samples;
    await sleep(10);
  }
  throw new Error(`fewer than ${count} requests recorded`);
}

describe('examples/observability', () => {
  it('serves /metrics with the proxy\u2019s requests and tokens, streams included, and tokens per tenant from onFinish', async () => {
    const client = new OpenAI({ apiKey: 'unused', baseURL: `${host.url}/llm/v1`, maxRetries: 0, defaultHeaders: { 'x-tenant': 'acme' } });
    const answer = await client.chat.completions.create(hello);
    const stream = await client.chat.completions.create({ ...hello, stream: true }); // usage asked for by the proxy
    let streamUsage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) streamUsage = chunk.usage ?? streamUsage;
    expect(streamUsage).toBeDefined();

    const samples = await metricsAfter(2);
    const labels = { api: 'chat', provider: 'mock', model: 'gpt-4o-mini' };
    expect(valueOf(samples, 'llm_proxy_requests_total', { ...labels, status: '200' })).toBe(2);
    const input = answer.usage!.prompt_tokens + streamUsage!.prompt_tokens;
    const output = answer.usage!.completion_tokens + streamUsage!.completion_tokens;
    expect(valueOf(samples, 'llm_proxy_tokens_total', { ...labels, type: 'input' })).toBe(input);
    expect(valueOf(samples, 'llm_proxy_tokens_total', { ...labels, type: 'output' })).toBe(output);
    expect(valueOf(samples, 'llm_proxy_request_duration_seconds_count', { ...labels, stream: 'true' })).toBe(1);
    expect(valueOf(samples, 'llm_proxy_time_to_first_token_seconds_count', labels)).toBe(1);
    expect(valueOf(samples, 'app_tenant_tokens_total', { tenant: 'acme', type: 'input' })).toBe(input);
    expect(valueOf(samples, 'app_tenant_tokens_total', { tenant: 'acme', type: 'output' })).toBe(output);
  });

  it('refuses a blocked tenant in the OpenAI error shape, before any upstream call', async () => {
    const res = await request(example.app).post('/llm/v1/chat/completions').set('x-tenant', 'blocked').send(hello).expect(403);
    expect(res.body.error).toMatchObject({ message: 'This tenant may not use the proxy', code: 'request_rejected' });
    const samples = await metricsAfter(3);
    expect(valueOf(samples, 'llm_proxy_requests_total', { api: 'chat', provider: 'none', model: 'gpt-4o-mini', status: '403' })).toBe(1);
  });
});
