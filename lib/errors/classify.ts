/** Turns anything thrown by a fetch implementation, undici or the proxy into an HTTP answer. */

export type ErrorKind = 'connection' | 'timeout' | 'client_disconnect' | 'request' | 'response_too_large';

export interface ClassifiedError {
  kind: ErrorKind;
  status: 502 | 504 | 499;
  code: 'upstream_connection_error' | 'upstream_timeout' | 'client_closed_request' | 'upstream_request_error' | 'upstream_response_too_large';
  /** Safe to show to clients: never contains URLs, hosts or keys. */
  message: string;
}

const CONNECTION: ClassifiedError = {
  kind: 'connection',
  status: 502,
  code: 'upstream_connection_error',
  message: 'Could not connect to the upstream provider',
};
const TIMEOUT: ClassifiedError = {
  kind: 'timeout',
  status: 504,
  code: 'upstream_timeout',
  message: 'The upstream provider did not answer in time',
};
const CLIENT_DISCONNECT: ClassifiedError = {
  kind: 'client_disconnect',
  status: 499,
  code: 'client_closed_request',
  message: 'The client closed the request',
};
const REQUEST: ClassifiedError = {
  kind: 'request',
  status: 502,
  code: 'upstream_request_error',
  message: 'The request to the upstream provider failed',
};
const RESPONSE_TOO_LARGE: ClassifiedError = {
  kind: 'response_too_large',
  status: 502,
  code: 'upstream_response_too_large',
  message: 'The upstream response is larger than the proxy accepts',
};

/** Error codes and names, as Node, undici, node-fetch and this package set them. */
const BY_CODE: Record<string, ClassifiedError> = {
  ECONNREFUSED: CONNECTION,
  ECONNRESET: CONNECTION,
  ENOTFOUND: CONNECTION,
  EAI_AGAIN: CONNECTION,
  EHOSTUNREACH: CONNECTION,
  ENETUNREACH: CONNECTION,
  EPIPE: CONNECTION,
  UND_ERR_SOCKET: CONNECTION,
  UND_ERR_CLOSED: CONNECTION,
  ETIMEDOUT: TIMEOUT,
  UND_ERR_CONNECT_TIMEOUT: TIMEOUT,
  UND_ERR_HEADERS_TIMEOUT: TIMEOUT,
  UND_ERR_BODY_TIMEOUT: TIMEOUT,
  upstream_timeout: TIMEOUT,
  client_closed_request: CLIENT_DISCONNECT,
  upstream_response_too_large: RESPONSE_TOO_LARGE,
};
const BY_NAME: Record<string, ClassifiedError> = {
  TimeoutError: TIMEOUT,
  UpstreamTimeoutError: TIMEOUT,
  ClientClosedRequestError: CLIENT_DISCONNECT,
  UpstreamResponseTooLargeError: RESPONSE_TOO_LARGE,
};

const MAX_CAUSE_DEPTH = 8;

function classifyOne(value: unknown): ClassifiedError | undefined {
  if (value === null || typeof value !== 'object') {
    return undefined;
  }
  const { code, errno, name, message } = value as { code?: unknown; errno?: unknown; name?: unknown; message?: unknown };
  for (const key of [code, errno]) {
    if (typeof key === 'string' && Object.hasOwn(BY_CODE, key)) {
      return BY_CODE[key];
    }
  }
  if (typeof name === 'string' && Object.hasOwn(BY_NAME, name)) {
    return BY_NAME[name];
  }
  if (typeof message === 'string' && /socket hang up/i.test(message)) {
    return CONNECTION;
  }
  return undefined;
}

/**
 * Classifies any thrown value by `code`/`name` (never `instanceof` alone), looking through
 * `cause` chains the way fetch implementations wrap errors. Unknown values are `request` errors.
 *
 * @example
 * classifyError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' })).status // 502
 */
export function classifyError(error: unknown): ClassifiedError {
  let current: unknown = error;
  for (let depth = 0; depth < MAX_CAUSE_DEPTH && current != null; depth++) {
    const found = classifyOne(current);
    if (found) {
      return { ...found };
    }
    current = typeof current === 'object' ? (current as { cause?: unknown }).cause : undefined;
  }
  return { ...REQUEST };
}
