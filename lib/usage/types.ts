/** Token counts of one request, in one shape whatever the API; only what the upstream reported. */
export interface Usage {
  input_tokens: number;
  output_tokens: number;
  total_tokens: number;
  /** Input tokens served from the provider's prompt cache, when the upstream said. */
  cached_input_tokens?: number;
  /** Output tokens spent on reasoning, when the upstream said. */
  reasoning_tokens?: number;
}

/** The APIs the proxy serves, by the key their descriptors use. */
export type UsageApi = 'chat' | 'completions' | 'embeddings' | 'responses' | 'messages';

/**
 * Reads usage from the body bytes of one answer as they pass, without changing or holding them
 * back. Feed it every chunk forwarded to the client, then ask once the body has ended.
 */
export interface UsageTap {
  push(chunk: Buffer): void;
  /** The usage the answer reported, or undefined when it reported none (or was cut short). */
  result(): Usage | undefined;
}

/** Turns an API's own usage object into a `Usage`; undefined when it is not one. */
export type UsageNormaliser = (usage: unknown) => Usage | undefined;
