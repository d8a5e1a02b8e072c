/** The Redis store's options: the public type, and the resolved config checked once at construction. */
import { InvalidOptionError } from '../errors/errors.js';
import { toLogSink } from '../logging/logger.js';
import type { LogSink } from '../logging/request-logger.js';
import { DEFAULT_MAX_AFFINITY_ENTRIES } from '../state/affinity-cache.js';
import { positiveInteger, positiveMs } from '../util/option-checks.js';
import type { NodeRedisClient } from './client.js';
import { checkClient } from './client.js';

export const DEFAULT_PREFIX = 'llm-proxy:';
export const DEFAULT_REDIS_TIMEOUT_MS = 50;

/** Anything with `warn` and `error` (winston, pino, console), or a winston-style `log(level, message, meta)`. */
export type StoreLogger =
  | { warn(message: string, meta?: Record<string, unknown>): unknown; error(message: string, meta?: Record<string, unknown>): unknown; info?(message: string, meta?: Record<string, unknown>): unknown }
  | LogSink;

export interface RedisStoreOptions {
  /**
   * A connected node-redis client (`createClient()` from `redis` v5+, after `await client.connect()`).
   * The host owns it: the store never closes it. It makes one more connection, `client.duplicate()`,
   * for pub/sub, which inherits the client's reconnect strategy. Required.
   */
  client: NodeRedisClient;
  /**
   * Written before every key and the pub/sub channel; instances share state exactly when they share
   * it. Pub/sub ignores the database number, so two deployments on one Redis server need two
   * prefixes even in different databases. Default `'llm-proxy:'`.
   */
  prefix?: string;
  /** Longest wait on Redis for a call a request could wait on (`hit`, `tryLock`, `recallRemote`). Default 50 ms. */
  timeoutMs?: number;
  /** Where an outage is reported: once at warn when it starts, once at info when it ends. Default: the console. */
  logger?: StoreLogger;
  /** Most response ids kept in the local copy of the affinity map. Default 10000. */
  maxAffinityEntries?: number;
}

export interface ResolvedRedisStoreOptions {
  client: NodeRedisClient;
  prefix: string;
  timeoutMs: number;
  /** For loads and probes, which no request waits on: a slow link still completes them. */
  backgroundTimeoutMs: number;
  logger: LogSink;
  maxAffinityEntries: number;
}

function asSink(logger: unknown): LogSink {
  if (logger === undefined) return toLogSink(console);
  try {
    // winston, pino (fields first), console, or anything with info/warn/error, as the router takes them
    return toLogSink(logger);
  } catch {
    // below: a logger with warn() and error() only
  }
  const l = logger as Partial<Record<string, unknown>> | null;
  if (typeof l === 'object' && l !== null && typeof l.warn === 'function' && typeof l.error === 'function') {
    const methods = l as Record<string, (message: string, meta?: Record<string, unknown>) => unknown>;
    return { log: (level, message, meta) => methods[level === 'error' ? 'error' : 'warn']!(message, meta) };
  }
  throw new InvalidOptionError('logger', 'must be a logger with warn() and error() (winston, pino, console) or log(level, message, meta)');
}

export function resolveRedisStoreOptions(options: unknown): ResolvedRedisStoreOptions {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError('options', 'must be an object with a connected node-redis `client`');
  }
  const o = options as Partial<Record<keyof RedisStoreOptions, unknown>>;
  const prefix = o.prefix ?? DEFAULT_PREFIX;
  if (typeof prefix !== 'string' || prefix.length > 100) throw new InvalidOptionError('prefix', 'must be a string of at most 100 characters');
  const timeoutMs = positiveMs(o.timeoutMs, 'timeoutMs', DEFAULT_REDIS_TIMEOUT_MS);
  return {
    client: checkClient(o.client),
    prefix,
    timeoutMs,
    backgroundTimeoutMs: Math.max(timeoutMs, 1000),
    logger: asSink(o.logger),
    maxAffinityEntries: positiveInteger(o.maxAffinityEntries, 'maxAffinityEntries', DEFAULT_MAX_AFFINITY_ENTRIES),
  };
}
