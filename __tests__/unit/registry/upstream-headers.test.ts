/** Upstream headers by provider type: who gets Bearer, who gets x-api-key and an anthropic-version, and what a client may pass on. */
import { upstreamHeaders } from '../../../lib/registry/upstream-headers.js';
import { resolveProvider } from '../../../lib/registry/validate.js';
import { ProviderIndex } from '../../../lib/registry/provider-index.js';
import { probeRequest } from '../../../lib/health/probe.js';

const base = { id: 1, key: 'p', baseUrl: 'https://api.example.com/v1', apiKey: 'sk-1', models: { m: 'm-up' }, headers: { 'X-Org': 'acme' } };
const openai = resolveProvider(base, 'p');
const anthropic = resolveProvider({ ...base, type: 'anthropic' }, 'p');

describe('upstreamHeaders', () => {
  it('openai: Authorization Bearer, no x-api-key, no anthropic-version of its own', () => {
    expect(upstreamHeaders(openai, 'r1')).toEqual({ 'x-org': 'acme', 'content-type': 'application/json', 'x-request-id': 'r1', authorization: 'Bearer sk-1' });
  });

  it('anthropic: x-api-key and anthropic-version 2023-06-01, no Authorization', () => {
    expect(upstreamHeaders(anthropic, 'r1')).toEqual({ 'x-org': 'acme', 'content-type': 'application/json', 'x-request-id': 'r1', 'x-api-key': 'sk-1', 'anthropic-version': '2023-06-01' });
  });

  it('the client\'s anthropic-version and anthropic-beta win, for either type', () => {
    const forwarded = { 'anthropic-version': '2026-10-21', 'anthropic-beta': 'a,b' };
    expect(upstreamHeaders(anthropic, 'r1', forwarded)).toMatchObject({ ...forwarded, 'x-api-key': 'sk-1' });
    expect(upstreamHeaders(openai, 'r1', forwarded)).toMatchObject({ ...forwarded, authorization: 'Bearer sk-1' });
  });

  it('a provider without apiKey sends no key; its own anthropic-version header stays when the client sent none', () => {
    const keyless = resolveProvider({ ...base, type: 'anthropic', apiKey: undefined, headers: { 'anthropic-version': '2024-01-01' } }, 'p');
    expect(upstreamHeaders(keyless, 'r')).toEqual({ 'anthropic-version': '2024-01-01', 'content-type': 'application/json', 'x-request-id': 'r' });
  });
});

describe('ProviderIndex by API', () => {
  const index = new ProviderIndex([
    openai,
    resolveProvider({ ...base, id: 2, key: 'a', type: 'anthropic', models: { m: 'm-up', c: 'c-up' } }, 'p'),
    resolveProvider({ ...base, id: 3, key: 'r', apis: ['responses'], weight: 0 }, 'p'),
    resolveProvider({ ...base, id: 4, key: 'off', enabled: false }, 'p'),
  ]);

  it('servedBy: enabled providers with weight that serve the API and map the model', () => {
    expect(index.servedBy('chat', 'm').map((p) => p.key)).toEqual(['p']);
    expect(index.servedBy('messages', 'm').map((p) => p.key)).toEqual(['a']);
    expect(index.servedBy('responses', 'm').map((p) => p.key)).toEqual(['p']);
    expect(index.servedBy('messages', 'nope')).toEqual([]);
    expect(index.candidates('m').map((p) => p.key)).toEqual(['p', 'a']);
  });

  it('serving: every enabled provider of the API, whatever its weight; byKey', () => {
    expect(index.serving('responses').map((p) => p.key)).toEqual(['p', 'r']);
    expect(index.byKey('r')?.id).toBe(3);
    expect(index.byKey('nope')).toBeUndefined();
  });
});

describe('probeRequest', () => {
  it('an anthropic provider\'s models are probed on /messages with anthropic-version by default', () => {
    expect(probeRequest(anthropic, anthropic.models.get('m')!)).toEqual({
      path: '/messages',
      body: { model: 'm-up', max_tokens: 5, messages: [{ role: 'user', content: 'Hi' }] },
      headers: { 'anthropic-version': '2023-06-01' },
    });
  });

  it.each([
    [['embeddings'], '/embeddings'],
    [['responses', 'embeddings'], '/responses'],
    [['completions'], '/completions'],
    [['chat', 'embeddings'], '/chat/completions'],
  ] as const)('an openai provider serving only %j is probed by default on %s, an API it serves', (apis, path) => {
    const provider = resolveProvider({ ...base, apis: [...apis] }, 'p');
    expect(probeRequest(provider, provider.models.get('m')!).path).toBe(path);
  });

  it('the responses mode', () => {
    const provider = resolveProvider({ ...base, models: { m: { model: 'm-up', healthCheck: { mode: 'responses' } } } }, 'p');
    expect(probeRequest(provider, provider.models.get('m')!)).toEqual({ path: '/responses', body: { model: 'm-up', input: 'Hi', max_output_tokens: 16 }, headers: undefined });
  });
});
