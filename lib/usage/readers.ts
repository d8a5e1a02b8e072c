/** One usage reader per API: the table an API descriptor points into. */
import { JsonUsageTap } from './json-usage-tap.js';
import { usageFromChat, usageFromEmbeddings, usageFromMessages, usageFromResponses } from './normalise.js';
import { chatStreamUsage, messagesStreamUsage, responsesStreamUsage, SseUsageTap } from './stream-usage-tap.js';
import type { StreamUsageRule } from './stream-usage-tap.js';
import type { UsageApi, UsageNormaliser, UsageTap } from './types.js';

/** Makes a fresh tap per answer: `json()` for a JSON body, `stream()` for an SSE body. */
export interface UsageReader {
  json(): UsageTap;
  stream(): UsageTap;
}

/** For APIs without streams (embeddings): a stream body reports no usage. */
const NO_USAGE: UsageTap = Object.freeze({
  push(): void {},
  result(): undefined {
    return undefined;
  },
});

function reader(normalise: UsageNormaliser, streamRule: StreamUsageRule | undefined): UsageReader {
  return Object.freeze({
    json: () => new JsonUsageTap(normalise),
    stream: streamRule === undefined ? () => NO_USAGE : () => new SseUsageTap(streamRule),
  });
}

export const usageReaders: Readonly<Record<UsageApi, UsageReader>> = Object.freeze({
  chat: reader(usageFromChat, chatStreamUsage),
  completions: reader(usageFromChat, chatStreamUsage),
  embeddings: reader(usageFromEmbeddings, undefined),
  responses: reader(usageFromResponses, responsesStreamUsage),
  messages: reader(usageFromMessages, messagesStreamUsage),
});
