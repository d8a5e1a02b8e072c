// The `express-llm-proxy/redis` entry: the shared-state store on a host's node-redis client. Its
// own entry so that `redis` stays an optional peer: the main entry never imports this folder.
import type { RedisStoreOptions } from './options.js';
import { resolveRedisStoreOptions } from './options.js';
import { RedisStore } from './store.js';

/**
 * A `StateStore` shared through Redis by every router instance using the same `prefix`.
 * Options are checked here: a bad one throws `InvalidOptionError` naming it.
 *
 * @example
 * import { createClient } from 'redis';
 * import { createRedisStore } from 'express-llm-proxy/redis';
 * const client = createClient({ url: process.env.REDIS_URL });
 * await client.connect();
 * const store = createRedisStore({ client, prefix: 'my-app:llm:' });
 * await store.ready; // optional: the first load of the shared state
 */
export function createRedisStore(options: RedisStoreOptions): RedisStore {
  return new RedisStore(resolveRedisStoreOptions(options));
}

export type { RedisStore } from './store.js';
export type { RedisStoreOptions, StoreLogger } from './options.js';
export type { NodeRedisClient, RedisSubscriber } from './client.js';
export type { RateLimitDecision, RateLimits, RateLimitUsage, RecordUpdate, SharedRecords, StateStore } from '../state/types.js';
