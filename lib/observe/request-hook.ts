/**
 * Runs `hooks.onRequest` for one request: builds its event (plain closures, so a hook may
 * destructure `reject` and `setUpstreamHeader`), waits for an async hook while the client is there
 * and the router is not stopping, and turns the outcome into the headers to add upstream or the
 * answer to give instead.
 */
import type { Request } from 'express';
import { HttpError, openAiError } from '../errors/openai-error.js';
import type { LogSink } from '../logging/logger.js';
import type { ClientWatch, StopWatch } from '../sse/pipe.js';
import type { RequestHookEvent } from './hooks.js';
import { reportHookError } from './hooks.js';

/** The answer when `onRequest` throws or rejects; its message stays in the log, not in the answer. */
export const HOOK_ERROR = new HttpError(500, openAiError('A request hook of the proxy failed', 'server_error', 'hook_error'));

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
/** Headers that frame or route the request: the proxy's transport owns them. */
const RESERVED = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'te', 'trailer', 'expect']);

export interface RequestHookInput {
  req: Request;
  api: string;
  model: string;
  stream: boolean;
  body: Readonly<Record<string, unknown>>;
  requestId: string;
  client: string | undefined;
}

/** Where an async hook stops being waited for. */
export interface HookWait {
  client: ClientWatch;
  shutdown: StopWatch;
  /** Thrown when the router stops while the hook runs. */
  stopped: Error;
}

type Outcome = Record<string, string> | undefined;

/**
 * The headers the hook added (undefined for none), directly when the hook returned synchronously,
 * else as a promise. Throws (or rejects with) an `HttpError`: the hook's `reject()`, or `HOOK_ERROR`.
 * When the client leaves while an async hook runs, resolves at once (the caller sees the client gone).
 */
export function runRequestHook(hook: (event: RequestHookEvent) => unknown, input: RequestHookInput, logger: LogSink, wait: HookWait): Outcome | Promise<Outcome> {
  let headers: Record<string, string> | undefined;
  let rejection: HttpError | undefined;
  let open = true;
  const closed = (method: string): TypeError => new TypeError(`${method}() was called after onRequest had returned`);
  const event: RequestHookEvent = {
    ...input,
    setUpstreamHeader(name: string, value: string): void {
      if (!open) throw closed('setUpstreamHeader');
      if (typeof name !== 'string' || !TOKEN.test(name)) throw new TypeError(`setUpstreamHeader(): ${JSON.stringify(name)} is not a header name`);
      const lower = name.toLowerCase();
      if (RESERVED.has(lower)) throw new TypeError(`setUpstreamHeader(): ${lower} is set by the proxy`);
      if (typeof value !== 'string' || !FIELD_VALUE.test(value)) throw new TypeError(`setUpstreamHeader(): the value of ${lower} must be a string without line breaks`);
      (headers ??= {})[lower] = value;
    },
    reject(status: number, message: string): void {
      if (!open) throw closed('reject');
      if (!Number.isInteger(status) || status < 400 || status > 599) throw new TypeError(`reject(): the status must be an integer from 400 to 599, not ${String(status)}`);
      if (typeof message !== 'string') throw new TypeError('reject(): the message must be a string');
      rejection ??= new HttpError(status, openAiError(message, status >= 500 ? 'server_error' : 'invalid_request_error', 'request_rejected'));
    },
  };
  const failed = (error: unknown): never => {
    open = false;
    reportHookError(logger, 'hooks.onRequest', error, input.requestId);
    throw HOOK_ERROR;
  };
  const settle = (): Outcome => {
    open = false;
    if (rejection) throw rejection;
    return headers;
  };
  let result: unknown;
  try {
    result = hook(event);
  } catch (error) {
    return failed(error);
  }
  let thenable: boolean;
  try {
    thenable = typeof (result as PromiseLike<unknown> | undefined)?.then === 'function';
  } catch (error) {
    return failed(error); // a `then` getter that throws is the hook failing like any other
  }
  if (!thenable) return settle();
  const late = (error: unknown): void => reportHookError(logger, 'hooks.onRequest', error, input.requestId);
  return waitFor(Promise.resolve(result), wait, late).then(
    (state) => {
      if (state === 'stopped') throw wait.stopped;
      if (state === 'gone') {
        open = false;
        return undefined;
      }
      return settle();
    },
    failed,
  );
}

/**
 * Resolves when the promise settles, the client leaves, or the router stops, whichever is first;
 * a rejection that comes after one of the others is still reported (`late`).
 */
function waitFor(promise: Promise<unknown>, { client, shutdown }: HookWait, late: (error: unknown) => void): Promise<'done' | 'gone' | 'stopped'> {
  return new Promise((resolve, reject) => {
    let finished = false;
    let stopGone = (): void => {};
    let stopStop = (): void => {};
    const finish = (then: () => void): void => {
      if (finished) return;
      finished = true;
      stopGone();
      stopStop();
      then();
    };
    promise.then(
      () => finish(() => resolve('done')),
      (error: unknown) => (finished ? late(error) : finish(() => reject(error))),
    );
    stopGone = client.onGone(() => finish(() => resolve('gone')));
    stopStop = shutdown.onStop(() => finish(() => resolve('stopped')));
    if (finished) {
      stopGone();
      stopStop();
    }
  });
}
