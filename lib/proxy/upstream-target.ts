/** The parts of an upstream request that come from the client's: the query string and a few headers. */
import type { IncomingMessage } from 'node:http';

/** The query string of a request target, `?` included; '' when there is none (or it is empty). */
export function queryOf(url: string | undefined): string {
  const at = url === undefined ? -1 : url.indexOf('?');
  return at === -1 || at === url!.length - 1 ? '' : url!.slice(at);
}

/** `url` with `query` (from `queryOf`) added after any query it has (Azure's `?api-version=…`). */
export function withQuery(url: string, query: string): string {
  if (query === '') return url;
  return url.includes('?') ? `${url}&${query.slice(1)}` : url + query;
}

/** The client's values of the headers `names` (lower-case), or undefined when it sent none of them. */
export function forwardedHeaders(req: IncomingMessage, names: readonly string[] | undefined): Record<string, string> | undefined {
  if (names === undefined) return undefined;
  let found: Record<string, string> | undefined;
  for (const name of names) {
    const value = req.headers[name];
    if (typeof value === 'string') (found ??= {})[name] = value;
  }
  return found;
}
