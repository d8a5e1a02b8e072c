/** Client-key check for the proxy routes (`apiKeys` option). */
import type { NextFunction, Request, Response } from 'express';
import type { ApiKeys } from '../http/keys.js';
import { bearerToken, keyInList } from '../http/keys.js';
import { openAiError } from '../errors/openai-error.js';
import type { LogSink } from '../logging/request-logger.js';
import { sendOpenAiError } from '../http/respond.js';

const INVALID_KEY = openAiError('Incorrect API key provided', 'invalid_request_error', 'invalid_api_key');

export function clientAuth(keys: ApiKeys, logger: LogSink) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const key = bearerToken(req);
    if (key === undefined) {
      sendOpenAiError(res, 401, INVALID_KEY);
      return;
    }
    if (typeof keys !== 'function') {
      if (keyInList(key, keys)) next();
      else sendOpenAiError(res, 401, INVALID_KEY);
      return;
    }
    Promise.resolve()
      .then(() => keys(key, req))
      .then(
        (ok) => (ok === true ? next() : sendOpenAiError(res, 401, INVALID_KEY)),
        (error: unknown) => {
          try {
            logger.log('error', 'apiKeys predicate threw', { error: error instanceof Error ? error.message : String(error) });
          } catch {
            // contained
          }
          sendOpenAiError(res, 500, openAiError('Could not check the API key', 'server_error', 'internal_error'));
        },
      );
  };
}
