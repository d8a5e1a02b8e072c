/**
 * What a health probe sends in each mode: the endpoint path and the default body (the proxy sets
 * `model`). Pure data, so the registry's validation and the health service share it without
 * either loading the proxy.
 */
import { DEFAULT_ANTHROPIC_VERSION } from '../defaults.js';
import type { ProbeMode, ProviderApi, ProviderType } from './types.js';

export type { ProbeMode };

export interface ProbeModeSpec {
  path: string;
  body: Readonly<Record<string, unknown>>;
  /** Headers the endpoint requires of every caller, whatever the provider type. */
  headers?: Readonly<Record<string, string>>;
}

export const PROBE_MODES: Readonly<Record<ProbeMode, ProbeModeSpec>> = Object.freeze({
  chat: { path: '/chat/completions', body: { messages: [{ role: 'user', content: 'Hi' }], max_tokens: 5, stream: false } },
  embedding: { path: '/embeddings', body: { input: 'Hi' } },
  completion: { path: '/completions', body: { prompt: 'Hi', max_tokens: 5, stream: false } },
  messages: {
    path: '/messages',
    body: { max_tokens: 5, messages: [{ role: 'user', content: 'Hi' }] },
    headers: { 'anthropic-version': DEFAULT_ANTHROPIC_VERSION },
  },
  responses: { path: '/responses', body: { input: 'Hi', max_output_tokens: 16 } },
});

/** The probe of each API a provider can serve, in the order a default is looked for. */
const MODE_OF_API: Readonly<Record<ProviderApi, ProbeMode>> = Object.freeze({
  chat: 'chat',
  messages: 'messages',
  responses: 'responses',
  completions: 'completion',
  embeddings: 'embedding',
});

/**
 * The mode of a model without its own: what the provider type speaks first (messages for
 * `anthropic`, chat otherwise) when the provider serves it, else the first API it serves, so a
 * provider that serves only embeddings is not probed with a chat request it would refuse.
 */
export function defaultProbeMode(type: ProviderType, apis?: ReadonlySet<ProviderApi>): ProbeMode {
  const preferred: ProviderApi = type === 'anthropic' ? 'messages' : 'chat';
  if (apis === undefined || apis.size === 0 || apis.has(preferred)) return MODE_OF_API[preferred];
  for (const api of Object.keys(MODE_OF_API) as ProviderApi[]) {
    if (apis.has(api)) return MODE_OF_API[api];
  }
  return MODE_OF_API[preferred];
}
