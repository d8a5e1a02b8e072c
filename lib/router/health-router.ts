/** The admin health routes, as an Express router a host can mount anywhere. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import express from 'express';
import type { NextFunction, Request, RequestHandler, Response, Router } from 'express';
import { bearerToken, safeEqual } from '../http/keys.js';
import { InvalidOptionError } from '../errors/errors.js';
import type { HttpError } from '../errors/openai-error.js';
import { openAiError } from '../errors/openai-error.js';
import { checkAllOptions, fromQuery, providerCheckOptions } from '../router/admin-request.js';
import type { HealthCheckError } from '../health/errors.js';
import type { HealthCheckService } from '../health/service.js';
import { readJsonBody } from '../http/read-body.js';
import { sendJson } from '../http/respond.js';

export interface HealthRouterOptions {
  /** The service that runs the checks. */
  service: Pick<HealthCheckService, 'checkProvider' | 'checkProviders'>;
  /** Every route requires `Authorization: Bearer <adminKey>`. */
  adminKey: string;
  /** When given, `GET /admin/v1/health` returns what it gives (latest results, breaker states) without making calls. */
  status?: () => unknown;
  /** @internal Middleware run first on each route (the proxy router's request logger). */
  before?: RequestHandler[];
}

const BODY_LIMIT = 64 * 1024;
// One body for a missing and a wrong key, so the answer says nothing about which it was.
const UNAUTHORIZED = openAiError('Missing or invalid admin key', 'invalid_request_error', 'invalid_api_key');
const PARAMS: Record<HealthCheckError['option'], string | null> = { id: null, providerIds: 'provider_ids', models: 'models' };

/** An empty body (none at all, or `Content-Length: 0`) is the same as `{}`. */
async function jsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const host = req as IncomingMessage & { _body?: boolean };
  const declared = req.headers['content-length'];
  const empty = declared === '0' || (declared === undefined && req.headers['transfer-encoding'] === undefined);
  if (host._body !== true && !req.readableEnded && empty) return {};
  return (await readJsonBody(req, BODY_LIMIT)).parsed;
}

function isNamed<T extends Error>(error: unknown, name: string): error is T {
  return error instanceof Error && error.name === name;
}

/** Sends the report, or the OpenAI-shaped error the service or the request check raised. */
function answer(work: (req: Request) => Promise<unknown>): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    work(req).then(
      (report) => sendJson(res, 200, report),
      (error: unknown) => {
        if (isNamed<HttpError>(error, 'HttpError')) {
          sendJson(res, error.status, error.body);
        } else if (isNamed<HealthCheckError>(error, 'HealthCheckError')) {
          sendJson(res, error.status, openAiError(error.message, 'invalid_request_error', error.code, PARAMS[error.option]));
        } else {
          next(error); // a bug: the host's (or the proxy router's) error handler answers 500
        }
      },
    );
  };
}

function adminAuth(adminKey: string): RequestHandler {
  return (req: IncomingMessage, res: ServerResponse, next: NextFunction) => {
    // Compare even when no key came, so both failures take the same path.
    if (safeEqual(bearerToken(req) ?? '', adminKey)) next();
    else sendJson(res, 401, UNAUTHORIZED, { 'www-authenticate': 'Bearer' });
  };
}

/**
 * The admin health routes, all behind `Authorization: Bearer <adminKey>`:
 * `POST /admin/v1/providers/:id/health`, `POST /admin/v1/health/check` and
 * `GET /admin/v1/health/providers/:id?models=a,b&timeout_secs=n`, and, with `status`,
 * `GET /admin/v1/health`.
 *
 * @example
 * const service = new HealthCheckService({ providers });
 * app.use('/ops', createHealthRouter({ service, adminKey: process.env.ADMIN_KEY }));
 */
export function createHealthRouter(options: HealthRouterOptions): Router {
  if (typeof options !== 'object' || options === null || typeof options.service?.checkProvider !== 'function' || typeof options.service.checkProviders !== 'function') {
    throw new InvalidOptionError('service', 'must be a HealthCheckService: createHealthRouter({ service, adminKey })');
  }
  if (typeof options.adminKey !== 'string' || options.adminKey.length === 0) {
    throw new InvalidOptionError('adminKey', 'must be a non-empty string');
  }
  if (/\s/.test(options.adminKey)) {
    // It could never match a bearer token: nearly always a key read from a file with its newline.
    throw new InvalidOptionError('adminKey', 'must not contain whitespace: trim it (a key read from a file usually ends with a newline)');
  }
  const { service } = options;
  const before = [...(options.before ?? []), adminAuth(options.adminKey)];
  const router = express.Router();
  router.post(
    '/admin/v1/providers/:id/health',
    ...before,
    answer(async (req) => service.checkProvider(String(req.params.id), providerCheckOptions(await jsonBody(req)))),
  );
  router.post('/admin/v1/health/check', ...before, answer(async (req) => service.checkProviders(checkAllOptions(await jsonBody(req)))));
  router.get(
    '/admin/v1/health/providers/:id',
    ...before,
    answer(async (req) => service.checkProvider(String(req.params.id), providerCheckOptions(fromQuery(req.query as Record<string, unknown>)))),
  );
  const { status } = options;
  if (status !== undefined) {
    router.get('/admin/v1/health', ...before, answer(async () => status()));
  }
  return router;
}
