/**
 * The default transport: undici's dispatcher API on a keep-alive pool per upstream origin. It
 * skips the WHATWG Request/Response objects that make fetch cost about 2.5x the CPU per request,
 * and drives its default agent with its own small handler rather than `request()`'s.
 */
import type { Dispatcher } from 'undici';
import { Agent } from 'undici';
import { DEFAULT_KEEP_ALIVE_MS } from '../defaults.js';
import { InvalidOptionError } from '../errors/errors.js';
import { positiveInteger, positiveMs } from '../util/option-checks.js';
import { decodeResponse } from './decode.js';
import type { UpstreamResponse, UpstreamTransport } from './types.js';
import type { SignalLike } from './undici-handler.js';
import { dispatchRequest, settleOnAbort } from './undici-handler.js';

export interface UndiciTransportOptions {
  /**
   * A dispatcher of your own (an `Agent`, `Pool` or `ProxyAgent`); default a keep-alive `Agent`.
   * Yours is driven through its own `request()`, so one from any undici version works; the
   * default agent gets the transport's leaner handler.
   */
  dispatcher?: Dispatcher;
  /** Sockets per upstream origin for the default agent. Default unlimited. */
  connections?: number;
  /** How long an idle upstream socket is kept. Default 30000 ms. */
  keepAliveTimeoutMs?: number;
}

export interface UndiciTransport extends UpstreamTransport {
  /** Closes the default agent's sockets (not a dispatcher you passed in). */
  close(): Promise<void>;
}

interface Target {
  origin: string;
  path: string;
}

const MAX_CACHED_TARGETS = 1024;
/**
 * A dispatcher composed with undici's redirect interceptor follows redirects unless the request
 * says 0, as undici's own fetch does: a redirect would carry the provider's key wherever it points.
 */
const NO_REDIRECTS = { maxRedirections: 0 } as Partial<Dispatcher.DispatchOptions>;

export function createUndiciTransport(options: UndiciTransportOptions = {}): UndiciTransport {
  const connections = options.connections === undefined ? null : positiveInteger(options.connections, 'connections', 1);
  const keepAliveTimeout = positiveMs(options.keepAliveTimeoutMs, 'keepAliveTimeoutMs', DEFAULT_KEEP_ALIVE_MS);
  const ownDispatcher = options.dispatcher === undefined;
  const given = options.dispatcher as Partial<Dispatcher> | null | undefined;
  if (!ownDispatcher && (typeof given?.request !== 'function' || typeof given.dispatch !== 'function')) {
    throw new InvalidOptionError('dispatcher', 'must be an undici Dispatcher (an Agent, Pool or ProxyAgent)');
  }
  const dispatcher: Dispatcher =
    options.dispatcher ??
    new Agent({
      connections,
      keepAliveTimeout,
      // The proxy's own timeouts govern; undici's 300 s defaults would cut off slow reasoning models.
      headersTimeout: 0,
      bodyTimeout: 0,
    });
  const targets = new Map<string, Target>();
  const targetOf = (url: string): Target => {
    let target = targets.get(url);
    if (!target) {
      const parsed = new URL(url);
      target = { origin: parsed.origin, path: parsed.pathname + parsed.search };
      if (targets.size >= MAX_CACHED_TARGETS) {
        targets.clear();
      }
      targets.set(url, target);
    }
    return target;
  };

  // The handler speaks the dispatch API of the undici we ship (7, as 8 does); a dispatcher passed
  // in may come from another major version, whose own request() always fits it.
  // Both resolve with the body decoded.
  const send = ownDispatcher ? dispatchRequest : requestOn;
  const transport = ((request) => {
    const { origin, path } = targetOf(request.url);
    const { method, headers, body } = request;
    // The emitter form when the request has one: reading `signal` would create an AbortController.
    return send(dispatcher, { origin, path, method, headers, body, ...NO_REDIRECTS }, request.abort ?? request.signal);
  }) as UndiciTransport;
  transport.close = async () => {
    if (ownDispatcher) {
      await dispatcher.close();
    }
  };
  return transport;
}

/** `dispatchRequest` for a dispatcher passed in: its own `request()`, the body decoded. */
function requestOn(dispatcher: Dispatcher, options: Dispatcher.DispatchOptions, signal: SignalLike | undefined): Promise<UpstreamResponse> {
  const pending = dispatcher
    .request({ ...options, signal })
    .then((response): UpstreamResponse => decodeResponse({ status: response.statusCode, headers: response.headers as UpstreamResponse['headers'], body: response.body }));
  return settleOnAbort(pending, signal);
}
