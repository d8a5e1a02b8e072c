/**
 * The rate-limit step of the proxy routes, after client auth and before the handler: one atomic
 * count in the store per request (`hit`), a `429` in the route's API envelope when a limit is
 * reached, and the answer's tokens charged to the key once it is over. Only configured limits
 * cost anything: a request whose key has none never waits on the store.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Api } from '../apis/api.js';
import type { HttpError } from '../errors/openai-error.js';
import { requestState } from '../http/request-state.js';
import type { LogSink, NodeMiddleware } from '../logging/request-logger.js';
import { sendError } from '../proxy/deliver.js';
import type { RateLimitDecision, RateLimits, StateStore } from '../state/types.js';
import type { ClientKey } from './client-key.js';
import { defaultClientKey, hashKey } from './client-key.js';
import type { ResolvedLimits } from './options.js';
import { LIMITER_FAILED, LIMITER_UNAVAILABLE, refusal } from './refusal.js';

export class RateLimiter {
  /** An outage is logged once, when it starts; the next counted request ends it. */
  #outage = false;

  constructor(
    private readonly limits: ResolvedLimits,
    private readonly store: StateStore,
    /** `apiKeys` is set: the default key is the client's identity or API key, not its IP. */
    private readonly byApiKey: boolean,
    private readonly logger: LogSink,
  ) {}

  /** The step for the routes of one API (its error envelope). */
  middleware(api: Api): NodeMiddleware {
    return (req, res, next) => {
      void this.#check(api, req, res, next);
    };
  }

  async #check(api: Api, req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void): Promise<void> {
    let key: ClientKey | undefined;
    let limits: RateLimits | undefined;
    let decision: RateLimitDecision;
    try {
      key = this.#keyOf(req);
      limits = key && this.#limitsOf(key.raw);
      if (key && limits && (limits.requestsPerMinute !== undefined || limits.tokensPerMinute !== undefined)) {
        decision = await this.store.hit(key.hashed, limits);
      } else {
        decision = { allowed: true };
        limits = undefined;
      }
    } catch (error) {
      this.#log('error', 'rate limit could not be applied (limits.key, limits.forKey or the limits they gave)', error);
      sendError(res, api, LIMITER_FAILED);
      return;
    }
    if (decision.unavailable) {
      this.#unavailable();
      if (this.limits.failClosed) this.#refuse(req, res, api, LIMITER_UNAVAILABLE);
      else next();
      return;
    }
    this.#outage = false;
    if (!decision.allowed) {
      this.#refuse(req, res, api, refusal(decision));
      return;
    }
    if (key && limits?.tokensPerMinute !== undefined) this.#chargeAfter(req, res, key.hashed);
    next();
  }

  #keyOf(req: IncomingMessage): ClientKey | undefined {
    const { key } = this.limits;
    if (!key) return defaultClientKey(req, this.byApiKey);
    const raw = key(req);
    if (raw === undefined) return undefined;
    if (typeof raw !== 'string') throw new TypeError('limits.key must return a string or undefined');
    return hashKey('custom', raw);
  }

  #limitsOf(raw: string): RateLimits {
    const own = this.limits.forKey?.(raw);
    if (own === undefined) return this.limits.defaults;
    if (typeof own !== 'object' || own === null) throw new TypeError('limits.forKey must return { requestsPerMinute?, tokensPerMinute? } or undefined');
    return own;
  }

  /** Input + output tokens, once the answer is over and its usage was read (as the request logger waits). */
  #chargeAfter(req: IncomingMessage, res: ServerResponse, key: string): void {
    const state = requestState(req);
    res.once('close', () => {
      setImmediate(() => {
        const usage = state.usage;
        if (usage) this.store.charge(key, usage.input_tokens + usage.output_tokens);
      });
    });
  }

  #refuse(req: IncomingMessage, res: ServerResponse, api: Api, error: HttpError): void {
    if (error.status === 503) requestState(req).logLevel = 'warn'; // the outage itself is logged once
    sendError(res, api, error);
  }

  #unavailable(): void {
    if (this.#outage) return;
    this.#outage = true;
    const what = this.limits.failClosed ? 'requests get 503 rate_limiter_unavailable' : 'requests are admitted without counting (failing open)';
    this.#log('warn', `rate limits cannot be counted: the store does not answer in time; ${what} until it does`);
  }

  #log(level: string, message: string, error?: unknown): void {
    try {
      const meta = error === undefined ? {} : { error: error instanceof Error ? error.message : String(error) };
      this.logger.log(level, `express-llm-proxy: ${message}`, meta);
    } catch {
      // a logger that throws must not break the request path
    }
  }
}
