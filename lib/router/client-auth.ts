/**
 * Client-key check for the proxy routes (`apiKeys` option); a refusal is in the route's API
 * envelope. A predicate may name the caller: the name is kept on the request state as `client`
 * (logged, and the default key for per-client limits). The key comes as a bearer token or in
 * `x-api-key` (Claude Code and `@ai-sdk/anthropic` send it there).
 */
import type { NextFunction, Request, Response } from 'express';
import type { Api } from '../apis/api.js';
import { HttpError, openAiError } from '../errors/openai-error.js';
import { clientKey, keyInList } from '../http/keys.js';
import { requestState } from '../http/request-state.js';
import type { LogSink } from '../logging/logger.js';
import { sendError } from '../proxy/deliver.js';

/**
 * Decides on a client key: `true` lets the request through, a non-empty string lets it through as
 * that client (e.g. a user or team id), anything else answers 401.
 */
export type ApiKeyCheck = (key: string, req: Request) => boolean | string | Promise<boolean | string>;

/** Client keys: a list, or a predicate a host backs with its own store. */
export type ApiKeys = readonly string[] | ApiKeyCheck;

// The proxy's own words, so a client can tell this refusal from an upstream's (OpenAI says
// "Incorrect API key provided"); the code stays `invalid_api_key`, which SDKs map to their auth error.
const INVALID_KEY = new HttpError(401, openAiError('Invalid proxy API key', 'invalid_request_error', 'invalid_api_key'), { 'www-authenticate': 'Bearer' });
const CHECK_FAILED = new HttpError(500, openAiError('Could not check the API key', 'server_error', 'internal_error'));

export function clientAuth(keys: ApiKeys, logger: LogSink, api: Api) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const key = clientKey(req);
    if (key === undefined) {
      sendError(res, api, INVALID_KEY);
      return;
    }
    if (typeof keys !== 'function') {
      if (keyInList(key, keys)) next();
      else sendError(res, api, INVALID_KEY);
      return;
    }
    Promise.resolve()
      .then(() => keys(key, req))
      .then(
        (verdict) => {
          if (verdict === true) {
            next();
          } else if (typeof verdict === 'string' && verdict.length > 0) {
            requestState(req).client = verdict;
            next();
          } else {
            sendError(res, api, INVALID_KEY);
          }
        },
        (error: unknown) => {
          try {
            logger.log('error', 'apiKeys predicate threw', { error: error instanceof Error ? error.message : String(error) });
          } catch {
            // contained
          }
          sendError(res, api, CHECK_FAILED);
        },
      );
  };
}
