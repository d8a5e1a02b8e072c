/**
 * Anthropic's error envelope, for the errors the proxy makes itself on the Messages routes:
 * `{"type":"error","error":{"type","message"}}`, the type chosen by status as the Messages API
 * pairs them, and the same inside a stream after `event: error`.
 */
import type { ErrorFields } from '../errors/openai-error.js';

const TYPE_BY_STATUS: Readonly<Record<number, string>> = {
  400: 'invalid_request_error',
  405: 'invalid_request_error',
  415: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  502: 'api_error',
  503: 'overloaded_error',
  529: 'overloaded_error',
  504: 'timeout_error',
};

/** The Anthropic error type of a proxy-made error with `status`. */
export function anthropicErrorType(status: number): string {
  return TYPE_BY_STATUS[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
}

export function anthropicErrorBody(status: number, error: ErrorFields): unknown {
  return { type: 'error', error: { type: anthropicErrorType(status), message: error.message } };
}

/**
 * The SSE pipe's reasons for ending a stream, as Anthropic error types: the proxy's clocks are
 * timeouts, a failed upstream connection is the API's own failure, and a proxy shutting down is
 * "overloaded" (a 503 `proxy_closed` before the headers is `overloaded_error` too), which clients
 * retry.
 */
const TYPE_BY_REASON: Readonly<Record<string, string>> = {
  ttft_timeout: 'timeout_error',
  stream_idle_timeout: 'timeout_error',
  stream_max_duration: 'timeout_error',
  upstream_stream_error: 'api_error',
  proxy_closed: 'overloaded_error',
};

export function anthropicStreamErrorEvent(code: string, message: string): string {
  return `event: error\ndata: ${JSON.stringify({ type: 'error', error: { type: TYPE_BY_REASON[code] ?? 'api_error', message } })}\n\n`;
}
