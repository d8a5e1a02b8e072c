/** The classifier as a table: every row of the table, plus the shapes real transports throw. */
import { FetchError, AbortError as NodeFetchAbortError } from 'node-fetch';
import { errors as undiciErrors } from 'undici';
import { classifyError, ClientClosedRequestError, UpstreamTimeoutError } from '../../../lib/errors/index.js';
import { UpstreamResponseTooLargeError } from '../../../lib/errors/errors.js';
import type { ErrorKind } from '../../../lib/errors/index.js';

const STATUS: Record<ErrorKind, [number, string]> = {
  connection: [502, 'upstream_connection_error'],
  timeout: [504, 'upstream_timeout'],
  client_disconnect: [499, 'client_closed_request'],
  request: [502, 'upstream_request_error'],
  response_too_large: [502, 'upstream_response_too_large'],
};

const coded = (code: string, message = `boom ${code}`) => Object.assign(new Error(message), { code });
/** What Node's global fetch (undici) throws: a TypeError whose cause carries the system error. */
const globalFetchError = (cause: unknown) => new TypeError('fetch failed', { cause });
/** What node-fetch throws for a system error: a FetchError copying `code` and `errno`. */
const nodeFetchError = (code: string) => new FetchError(`request to http://10.0.0.1:9/v1 failed, reason: ${code}`, 'system', coded(code) as never);

const table: [string, unknown, ErrorKind][] = [
  // connection
  ...['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE'].map(
    (code): [string, unknown, ErrorKind] => [`Node system error ${code}`, coded(code), 'connection'],
  ),
  ['"socket hang up" with ECONNRESET', coded('ECONNRESET', 'socket hang up'), 'connection'],
  ['"socket hang up" with no code', new Error('socket hang up'), 'connection'],
  ['undici SocketError (UND_ERR_SOCKET)', new undiciErrors.SocketError('other side closed'), 'connection'],
  ['undici ClientClosedError (UND_ERR_CLOSED)', new undiciErrors.ClientClosedError(), 'connection'],
  ['global fetch: TypeError with cause ECONNREFUSED', globalFetchError(coded('ECONNREFUSED')), 'connection'],
  ['global fetch: TypeError with cause UND_ERR_SOCKET', globalFetchError(new undiciErrors.SocketError('closed')), 'connection'],
  ['global fetch: cause is an AggregateError with code', globalFetchError(Object.assign(new AggregateError([coded('ECONNREFUSED')]), { code: 'ECONNREFUSED' })), 'connection'],
  ['node-fetch FetchError ENOTFOUND', nodeFetchError('ENOTFOUND'), 'connection'],
  ['node-fetch FetchError ECONNRESET', nodeFetchError('ECONNRESET'), 'connection'],
  ['errno string only', Object.assign(new Error('x'), { errno: 'EAI_AGAIN' }), 'connection'],
  ['cause three levels deep', new Error('a', { cause: new Error('b', { cause: globalFetchError(coded('EHOSTUNREACH')) }) }), 'connection'],
  ['a plain object from another realm', { code: 'ECONNREFUSED' }, 'connection'],
  // timeout
  ['Node ETIMEDOUT', coded('ETIMEDOUT'), 'timeout'],
  ['DOMException TimeoutError (AbortSignal.timeout)', new DOMException('The operation was aborted due to timeout', 'TimeoutError'), 'timeout'],
  ['global fetch TimeoutError wrapped in cause', globalFetchError(new DOMException('timeout', 'TimeoutError')), 'timeout'],
  ['the proxy UpstreamTimeoutError', new UpstreamTimeoutError(), 'timeout'],
  ['UpstreamTimeoutError wrapped by node-fetch-like error', new Error('aborted', { cause: new UpstreamTimeoutError('late', 10) }), 'timeout'],
  ['UpstreamTimeoutError look-alike (another package copy)', { name: 'UpstreamTimeoutError', message: 'x' }, 'timeout'],
  ['code upstream_timeout only', { code: 'upstream_timeout' }, 'timeout'],
  ['undici ConnectTimeoutError', new undiciErrors.ConnectTimeoutError(), 'timeout'],
  ['undici HeadersTimeoutError', new undiciErrors.HeadersTimeoutError(), 'timeout'],
  ['undici BodyTimeoutError', new undiciErrors.BodyTimeoutError(), 'timeout'],
  ['global fetch with cause UND_ERR_CONNECT_TIMEOUT', globalFetchError(new undiciErrors.ConnectTimeoutError()), 'timeout'],
  ['node-fetch FetchError ETIMEDOUT', nodeFetchError('ETIMEDOUT'), 'timeout'],
  // client disconnect
  ['the proxy ClientClosedRequestError', new ClientClosedRequestError(), 'client_disconnect'],
  ['ClientClosedRequestError in a cause', globalFetchError(new ClientClosedRequestError()), 'client_disconnect'],
  ['client_closed_request code only', { code: 'client_closed_request' }, 'client_disconnect'],
  ['ClientClosedRequestError look-alike by name', { name: 'ClientClosedRequestError' }, 'client_disconnect'],
  // an answer over maxResponseBytes
  ['the proxy UpstreamResponseTooLargeError', new UpstreamResponseTooLargeError(1024), 'response_too_large'],
  ['UpstreamResponseTooLargeError in a cause', new Error('read failed', { cause: new UpstreamResponseTooLargeError(1) }), 'response_too_large'],
  ['upstream_response_too_large code only', { code: 'upstream_response_too_large' }, 'response_too_large'],
  // anything else
  ['null', null, 'request'],
  ['undefined', undefined, 'request'],
  ['a string', 'something broke', 'request'],
  ['a string that looks like a code', 'ECONNREFUSED', 'request'],
  ['a number', 42, 'request'],
  ['a plain Error', new Error('nope'), 'request'],
  ['an unknown code', coded('EWHATEVER'), 'request'],
  ['a numeric code (DOMException.code)', { code: 23 }, 'request'],
  ['DOMException AbortError (an abort nobody marked)', new DOMException('aborted', 'AbortError'), 'request'],
  ['node-fetch AbortError', new NodeFetchAbortError('The operation was aborted.'), 'request'],
  ['undici RequestAbortedError', new undiciErrors.RequestAbortedError(), 'request'],
  ['undici HTTPParserError', new undiciErrors.HTTPParserError('bad'), 'request'],
  ['global fetch with an unknown cause', globalFetchError(new Error('weird')), 'request'],
  ['an object whose getters are harmless', Object.create(null), 'request'],
];

describe('classifyError', () => {
  it.each(table)('%s', (_name, value, kind) => {
    const [status, code] = STATUS[kind];
    const result = classifyError(value);
    expect(result).toEqual({ kind, status, code, message: expect.any(String) });
  });

  it('checks the outermost error first', () => {
    // A timeout that wraps a reset is a timeout: the proxy's own reason wins.
    expect(classifyError(Object.assign(new UpstreamTimeoutError(), { cause: coded('ECONNRESET') })).kind).toBe('timeout');
  });

  it('terminates on a cyclic cause chain', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    (a as { cause?: unknown }).cause = b;
    expect(classifyError(a).kind).toBe('request');
  });

  it('gives up after a bounded depth', () => {
    let deep: unknown = coded('ECONNREFUSED');
    for (let i = 0; i < 50; i++) deep = new Error(`level ${i}`, { cause: deep });
    expect(classifyError(deep).kind).toBe('request');
  });

  it('never leaks the URL, host or key of the original error', () => {
    const error = new FetchError('request to https://sk-secret@api.example.com/v1 failed, reason: connect ECONNREFUSED 10.1.2.3:443', 'system', coded('ECONNREFUSED') as never);
    const { message } = classifyError(error);
    expect(message).not.toMatch(/example|sk-secret|10\.1\.2\.3|https?:/);
  });

  it('returns a fresh object each time', () => {
    const first = classifyError(null);
    (first as { status: number }).status = 200;
    expect(classifyError(null).status).toBe(502);
  });
});
