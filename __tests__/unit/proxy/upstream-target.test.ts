/** The client's parts of an upstream request: its query string (kept where a route says) and the few headers an API passes on. */
import type { IncomingMessage } from 'node:http';
import { clientKey } from '../../../lib/http/keys.js';
import { forwardedHeaders, queryOf, withQuery } from '../../../lib/proxy/upstream-target.js';

const req = (headers: Record<string, string | string[]>) => ({ headers }) as unknown as IncomingMessage;

describe('queryOf and withQuery', () => {
  it.each([
    ['/v1/messages?beta=true', '?beta=true'],
    ['/v1/messages', ''],
    ['/v1/messages?', ''],
    ['http://host/v1/x?a=1&b=2', '?a=1&b=2'],
    [undefined, ''],
  ])('queryOf(%p) is %p', (url, query) => {
    expect(queryOf(url)).toBe(query);
  });

  it('adds the query after a base URL query, or as the query', () => {
    expect(withQuery('https://h/v1/messages', '?beta=true')).toBe('https://h/v1/messages?beta=true');
    expect(withQuery('https://h/d/messages?api-version=1', '?beta=true')).toBe('https://h/d/messages?api-version=1&beta=true');
    expect(withQuery('https://h/v1/messages', '')).toBe('https://h/v1/messages');
  });
});

describe('forwardedHeaders', () => {
  it('takes only the named headers the client sent', () => {
    const names = ['anthropic-version', 'anthropic-beta'];
    expect(forwardedHeaders(req({ 'anthropic-version': '2023-06-01', 'x-api-key': 'k', cookie: 'c' }), names)).toEqual({ 'anthropic-version': '2023-06-01' });
    expect(forwardedHeaders(req({ 'x-api-key': 'k' }), names)).toBeUndefined();
    expect(forwardedHeaders(req({ 'anthropic-version': '1' }), undefined)).toBeUndefined();
  });
});

describe('clientKey', () => {
  it.each<[Record<string, string>, string | undefined]>([
    [{ authorization: 'Bearer k-1' }, 'k-1'],
    [{ 'x-api-key': 'k-2' }, 'k-2'],
    [{ 'x-api-key': ' k-3 ' }, 'k-3'],
    [{ authorization: 'Bearer k-1', 'x-api-key': 'k-2' }, 'k-1'],
    [{ authorization: 'Basic abc', 'x-api-key': 'k-2' }, 'k-2'],
    [{ 'x-api-key': '' }, undefined],
    [{ 'x-api-key': 'a b' }, undefined],
    [{}, undefined],
  ])('%j → %p', (headers, key) => {
    expect(clientKey(req(headers))).toBe(key);
  });
});
