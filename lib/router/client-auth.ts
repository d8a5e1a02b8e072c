/** Client-key check for the proxy routes (`apiKeys` option): bearer token or `x-api-key`; a refusal is in the route's API envelope. */
import type { NextFunction, Request, Response } from 'express';
import type { Api } from '../apis/api.js';
import { HttpError, openAiError } from '../errors/openai-error.js';
import type { ApiKeys } from '../http/keys.js';
import { clientKey, keyInList } from '../http/keys.js';
import type { LogSink } from '../logging/request-logger.js';
import { sendError } from '../proxy/deliver.js';

const INVALID_KEY = new HttpError(401, openAiError('Incorrect API key provided', 'invalid_request_error', 'invalid_api_key'));
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
        (ok) => (ok === true ? next() : sendError(res, api, INVALID_KEY)),
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
