/**
 * The part of a node-redis (v5+) client this store uses, typed structurally: a host's client made
 * with any modules, scripts, RESP version or type mapping fits, and checking the shape at run time
 * tells a node-redis client from a cluster, a pool or another library's client.
 */
import type { RedisArgument, TypeMapping } from 'redis';
import { InvalidOptionError } from '../errors/errors.js';

/** The subscriber connection the store makes with `client.duplicate()`. */
export interface RedisSubscriber {
  connect(): Promise<unknown>;
  subscribe(channel: string, listener: (message: string, channel: string) => unknown): Promise<void>;
  destroy(): void;
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'ready', listener: () => void): unknown;
}

export interface NodeRedisClient {
  readonly isOpen: boolean;
  readonly isReady: boolean;
  sendCommand(args: ReadonlyArray<RedisArgument>, options?: { abortSignal?: AbortSignal; typeMapping?: TypeMapping }): Promise<unknown>;
  duplicate(): RedisSubscriber;
}

/** Throws `InvalidOptionError('client', …)` unless `client` is a connected node-redis client. */
export function checkClient(client: unknown): NodeRedisClient {
  const c = client as Partial<Record<string, unknown>> | null | undefined;
  if (
    typeof c !== 'object' || c === null ||
    typeof c.sendCommand !== 'function' || typeof c.duplicate !== 'function' ||
    typeof c.isOpen !== 'boolean' || typeof c.isReady !== 'boolean'
  ) {
    throw new InvalidOptionError('client', 'must be a node-redis client from `createClient()` (redis v5+); clusters and pools are not supported');
  }
  if (!c.isOpen) {
    throw new InvalidOptionError('client', 'must be connected: `await client.connect()` before createRedisStore()');
  }
  return client as NodeRedisClient;
}

/** Errors Redis answered with (`ERR …`, `NOSCRIPT …`): the server is reachable. */
export function isReplyError(error: unknown): boolean {
  const name = (error as { constructor?: { name?: string } } | null)?.constructor?.name;
  return name === 'SimpleError' || name === 'BlobError' || name === 'ErrorReply';
}
