/**
 * Every command the store sends goes through here, so the rules hold in one place: a command is
 * never queued while the connection is down (node-redis would hold it and run it later), a call
 * given a timeout gives up after it (a few timeouts in a row, or a lost connection, make an
 * outage), and an outage is logged once at `warn` when it starts and once at `info` when Redis
 * answers again, which also triggers the store's resync (a link that flaps is logged at most once
 * a minute). During an outage only recovery commands (probes, loads) are sent: a request does not
 * pay the timeout again and again on a Redis that stopped answering, and nothing piles up behind it.
 */
import { createHash } from 'node:crypto';
import type { LogSink } from '../logging/request-logger.js';
import type { NodeRedisClient } from './client.js';
import { isReplyError } from './client.js';

/** Redis was not ready or is known to be down, so the command was not sent: it certainly did not run. */
export class NotSentError extends Error {
  override readonly name = 'NotSentError';
}

/** No answer in time; the command may still run. */
export class RedisTimeoutError extends Error {
  override readonly name = 'RedisTimeoutError';
}

export interface LuaScript {
  source: string;
  sha: string;
}

export function luaScript(source: string): LuaScript {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

/** How often a down link checks whether Redis answers again (one probe in flight at a time). */
const PROBE_INTERVAL_MS = 250;
/** Distinct Redis error replies logged at most: a broken key must not flood the log. */
const MAX_LOGGED_REPLY_ERRORS = 20;
/**
 * Timeouts in a row that make an outage. One slow answer fails only its own call; a Redis that
 * stops answering is known down after a few, and requests stop paying the timeout.
 */
const TIMEOUTS_FOR_OUTAGE = 3;
/** An outage that starts within this long of the last one's warning is not logged again (a flapping link). */
const OUTAGE_LOG_INTERVAL_MS = 60_000;

export class RedisLink {
  #up = true;
  #closed = false;
  #probe: NodeJS.Timeout | undefined;
  #probing = false;
  #timeoutsInARow = 0;
  #lastWarnedAt = -Infinity;
  /** This outage was not logged, so its end is not either. */
  #quietOutage = false;
  readonly #loggedReplies = new Set<string>();

  constructor(
    private readonly client: NodeRedisClient,
    private readonly logger: LogSink,
    /** Called when Redis answers after an outage. */
    private readonly onBack: () => void,
    private readonly probeTimeoutMs: number,
  ) {}

  /** Not known to be down: worth sending to. */
  get available(): boolean {
    return this.#up && !this.#closed && this.client.isReady;
  }

  /**
   * Sends one command; without `timeoutMs` it waits for the answer (or for the connection to drop).
   * During an outage only a `recovery` command is sent.
   */
  async send(args: string[], timeoutMs?: number, recovery = false): Promise<unknown> {
    if (this.#closed) throw new NotSentError('the store is closed');
    if (!this.#up && !recovery) throw new NotSentError('Redis is unavailable until it answers a probe');
    if (!this.client.isReady) {
      const error = new NotSentError('Redis connection is not ready');
      this.noteFailure(error);
      throw error;
    }
    const controller = timeoutMs === undefined ? undefined : new AbortController();
    // `typeMapping: {}`: plain strings and numbers, whatever mapping the host's client uses.
    const reply = this.client.sendCommand(args, { abortSignal: controller?.signal, typeMapping: {} });
    let timer: NodeJS.Timeout | undefined;
    try {
      const result = controller
        ? await Promise.race([
            reply,
            new Promise<never>((_, reject) => {
              timer = setTimeout(() => {
                // The timeout first: aborting a command still queued rejects it too, and the
                // race must end with the timeout, not with that abort.
                reject(new RedisTimeoutError(`Redis did not answer within ${timeoutMs} ms`));
                controller.abort(); // drops it if still queued; if written, the answer is ignored
              }, timeoutMs);
            }),
          ])
        : await reply;
      this.#noteSuccess();
      return result;
    } catch (error) {
      if (isReplyError(error)) {
        this.#noteSuccess(); // Redis answered, with an error
        if (!String((error as Error).message).startsWith('NOSCRIPT')) this.#logReplyError(error as Error, args[0]!);
      } else if (error instanceof RedisTimeoutError) {
        if (++this.#timeoutsInARow >= TIMEOUTS_FOR_OUTAGE) this.noteFailure(error);
      } else {
        this.noteFailure(error);
      }
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** EVALSHA, falling back to EVAL when Redis lost its script cache (a restart, SCRIPT FLUSH). */
  async eval(script: LuaScript, keys: string[], args: string[], timeoutMs?: number, recovery = false): Promise<unknown> {
    const tail = [String(keys.length), ...keys, ...args];
    try {
      return await this.send(['EVALSHA', script.sha, ...tail], timeoutMs, recovery);
    } catch (error) {
      if (!isReplyError(error) || !String((error as Error).message).startsWith('NOSCRIPT')) throw error;
      return this.send(['EVAL', script.source, ...tail], timeoutMs, recovery);
    }
  }

  /** A failed call or a subscriber error: the first one after a success starts an outage. */
  noteFailure(error: unknown): void {
    if (!this.#up || this.#closed) return;
    this.#up = false;
    const now = performance.now();
    this.#quietOutage = now - this.#lastWarnedAt < OUTAGE_LOG_INTERVAL_MS;
    if (!this.#quietOutage) {
      this.#lastWarnedAt = now;
      this.log('warn', 'express-llm-proxy: Redis is unreachable; serving local state until it answers again', {
        error: error instanceof Error ? error.message : String(error),
      });
    }
    this.#probe = setInterval(() => {
      if (this.#probing || !this.client.isReady) return;
      this.#probing = true;
      this.send(['PING'], this.probeTimeoutMs, true)
        .catch(() => undefined)
        .finally(() => (this.#probing = false));
    }, PROBE_INTERVAL_MS);
    this.#probe.unref(); // an outage must not keep the host's process alive
  }

  close(): void {
    this.#closed = true;
    clearInterval(this.#probe);
  }

  #noteSuccess(): void {
    this.#timeoutsInARow = 0;
    if (this.#up || this.#closed) return;
    this.#up = true;
    clearInterval(this.#probe);
    if (!this.#quietOutage) this.log('info', 'express-llm-proxy: Redis answers again; resynchronising shared state', {});
    this.onBack();
  }

  #logReplyError(error: Error, command: string): void {
    if (this.#loggedReplies.size >= MAX_LOGGED_REPLY_ERRORS || this.#loggedReplies.has(error.message)) return;
    this.#loggedReplies.add(error.message);
    this.log('error', 'express-llm-proxy: Redis rejected a command of the shared-state store', { command, error: error.message });
  }

  /** Logs through the store's logger; a logger that throws does not break the store. */
  log(level: string, message: string, meta: Record<string, unknown>): void {
    try {
      this.logger.log(level, message, meta);
    } catch {
      // A logger that throws must not break the store.
    }
  }
}
