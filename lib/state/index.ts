// Shared state: the interface the router codes against and its in-process implementation. The
// Redis implementation is its own entry (`express-llm-proxy/redis`), so `redis` stays optional.
export { MemoryStore, DEFAULT_MAX_AFFINITY_ENTRIES } from './memory-store.js';
export type { MemoryStoreOptions } from './memory-store.js';
export { RATE_WINDOW_MS } from './types.js';
export type { RateLimitDecision, RateLimits, RateLimitUsage, RecordUpdate, SharedRecords, StateStore } from './types.js';
