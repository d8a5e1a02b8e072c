/**
 * Unknown option keys, caught at construction: a typo (`baseURL`, `maxRetries`, `retry.attempts`)
 * would otherwise be ignored without a word and the default used instead. The schemas themselves
 * live next to the option types (router/options.ts); this module only walks them.
 */
import { InvalidOptionError } from '../errors/errors.js';

const ITEMS = Symbol('items');
const VALUES = Symbol('values');

/** `true`: a key whose value is not walked (a number, a function, a class instance...). */
export type KeyNode = true | KeySchema | { readonly [ITEMS]: KeySchema } | { readonly [VALUES]: KeySchema };
export interface KeySchema {
  readonly [key: string]: KeyNode;
}

/** An array whose object items have these keys. */
export const listOf = (schema: KeySchema): KeyNode => ({ [ITEMS]: schema });
/** A record (any keys) whose object values have these keys. */
export const recordOf = (schema: KeySchema): KeyNode => ({ [VALUES]: schema });

/** Only plain objects are walked: a registry, a store or a transport is the host's own object. */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

/** The known key a typo most likely meant: same letters in another case, a close spelling, or a longer name containing it. */
export function nearestKey(key: string, known: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  let best: string | undefined;
  let bestScore = Infinity;
  for (const candidate of known) {
    const other = candidate.toLowerCase();
    let score = other === lower ? 0 : distance(lower, other);
    if (score > 2 || score * 2 >= key.length) score = lower.length >= 4 && other.includes(lower) ? 3 : Infinity;
    if (score < bestScore) {
      best = candidate;
      bestScore = score;
    }
  }
  return best;
}

const join = (path: string, key: string): string => (path === '' ? key : `${path}.${key}`);

function unknownKey(key: string, schema: KeySchema, path: string, pattern: string, hints: Readonly<Record<string, string>>): InvalidOptionError {
  const where = join(path, key);
  const hint = hints[join(pattern, key)] ?? (nearestKey(key, Object.keys(schema)) && join(path, nearestKey(key, Object.keys(schema))!));
  const known = path === '' ? 'see the options table in the README' : `the keys of \`${path}\` are ${Object.keys(schema).join(', ')}`;
  return new InvalidOptionError(where, hint === undefined ? `is not an option (${known})` : `is not an option; did you mean \`${hint}\`?`);
}

/**
 * Throws an `InvalidOptionError` naming the full path (`providers[0].baseURL`) of the first key
 * `schema` does not know, with a "did you mean". `hints` maps a pattern path (`[]` for any index,
 * `*` for any record key) to a suggestion for names no spelling rule finds (`maxRetries`).
 * Values that are not plain objects are left to the option's own check.
 */
export function checkKeys(value: unknown, schema: KeySchema, hints: Readonly<Record<string, string>> = {}, path = '', pattern = ''): void {
  if (!isPlainObject(value)) return;
  for (const key of Object.keys(value)) {
    if (!Object.hasOwn(schema, key)) throw unknownKey(key, schema, path, pattern, hints);
    const node = schema[key];
    const child = value[key];
    if (node === true) continue;
    const where = join(path, key);
    const like = join(pattern, key);
    if (ITEMS in node) {
      if (Array.isArray(child)) child.forEach((item, i) => checkKeys(item, node[ITEMS], hints, `${where}[${i}]`, `${like}[]`));
    } else if (VALUES in node) {
      if (isPlainObject(child)) for (const name of Object.keys(child)) checkKeys(child[name], node[VALUES], hints, `${where}.${name}`, `${like}.*`);
    } else {
      checkKeys(child, node as KeySchema, hints, where, like);
    }
  }
}
