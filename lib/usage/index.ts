export { usageReaders } from './readers.js';
export type { UsageReader } from './readers.js';
export { JsonUsageTap } from './json-usage-tap.js';
export type { JsonUsageTapOptions } from './json-usage-tap.js';
export { SseUsageTap, chatStreamUsage, responsesStreamUsage, messagesStreamUsage } from './stream-usage-tap.js';
export type { StreamUsageRule } from './stream-usage-tap.js';
export { usageFromChat, usageFromEmbeddings, usageFromResponses, usageFromMessages } from './normalise.js';
export type { Usage, UsageApi, UsageTap, UsageNormaliser } from './types.js';
