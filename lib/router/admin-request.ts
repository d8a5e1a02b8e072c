/**
 * Checks the admin health request (JSON body or query string) and turns it into service options.
 * Errors are OpenAI-shaped 400s whose `param` names the field; unknown fields are ignored.
 */
import { ADMIN_CHECK_LIMITS } from '../defaults.js';
import { invalidRequest } from '../errors/openai-error.js';
import type { CheckOptions, CheckProvidersOptions } from '../health/types.js';


const MAX_LIST = 1000;

type Body = Record<string, unknown>;

function badValue(param: string, message: string) {
  return invalidRequest(400, message, 'invalid_value', param);
}

function bounded(body: Body, param: string, range: { min: number; max: number; default: number }, integer: boolean): number {
  const value = body[param];
  if (value === undefined || value === null) return range.default;
  // A JSON string such as "2" is not a number: clients must send the type they mean.
  const ok = typeof value === 'number' && Number.isFinite(value) && (!integer || Number.isInteger(value)) && value >= range.min && value <= range.max;
  if (!ok) {
    throw badValue(param, `\`${param}\` must be ${integer ? 'an integer' : 'a number'} from ${range.min} to ${range.max}`);
  }
  return value;
}

function names<T>(body: Body, param: string, item: (v: unknown) => v is T, what: string): T[] | undefined {
  const value = body[param];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.length > MAX_LIST || !value.every(item)) {
    throw badValue(param, `\`${param}\` must be an array of ${what}`);
  }
  return value;
}

const isName = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 256;
const isId = (v: unknown): v is string | number => isName(v) || (typeof v === 'number' && Number.isFinite(v));

/** `POST /admin/v1/providers/:id/health` (and the GET, via `fromQuery`). */
export function providerCheckOptions(body: Body): Required<Pick<CheckOptions, 'maxConcurrent' | 'timeoutMs'>> & CheckOptions {
  return {
    models: names(body, 'models', isName, 'model names (strings)'),
    maxConcurrent: bounded(body, 'max_concurrent', ADMIN_CHECK_LIMITS.maxConcurrent, true),
    timeoutMs: bounded(body, 'timeout_secs', ADMIN_CHECK_LIMITS.timeoutSecs, false) * 1000,
  };
}

/** `POST /admin/v1/health/check`. */
export function checkAllOptions(body: Body): CheckProvidersOptions {
  return { ...providerCheckOptions(body), providerIds: names(body, 'provider_ids', isId, 'provider ids (strings or numbers)') };
}

const NUMBER = /^\s*\d+(?:\.\d+)?\s*$/;

/**
 * The GET route's query (`?models=a,b&timeout_secs=n&max_concurrent=n`) as a body: in a query
 * everything is a string, so numbers are parsed here, strictly.
 */
export function fromQuery(query: Record<string, unknown>): Body {
  const body: Body = {};
  for (const param of ['timeout_secs', 'max_concurrent']) {
    const value = query[param];
    if (value === undefined || value === '') continue;
    if (typeof value !== 'string' || !NUMBER.test(value)) {
      throw badValue(param, `\`${param}\` must be a number`);
    }
    body[param] = Number(value);
  }
  const models = query.models;
  if (models !== undefined) {
    // `?models=a,b` and `?models=a&models=b` both work; `?models=` means every model.
    const parts = (Array.isArray(models) ? models : [models]).flatMap((part) => (typeof part === 'string' ? part.split(',') : [part]));
    const list = parts.map((part) => (typeof part === 'string' ? part.trim() : part)).filter((part) => part !== '');
    if (list.length > 0) body.models = list;
  }
  return body;
}
