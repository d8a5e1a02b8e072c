/**
 * Error classes with stable string codes. Code that handles them should test `code`/`name`, not
 * `instanceof`: jest realms and duplicate package copies break `instanceof`.
 */

/** Codes of the errors this package creates itself. */
export type LlmProxyErrorCode = 'invalid_option' | 'upstream_timeout' | 'client_closed_request' | 'upstream_response_too_large' | 'provider_registry_unavailable';

/** Base class: a `code` callers can switch on, the HTTP status it maps to, and the `cause`. */
export class LlmProxyError extends Error {
  readonly code: LlmProxyErrorCode;
  readonly status: number;

  constructor(code: LlmProxyErrorCode, status: number, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LlmProxyError';
    this.code = code;
    this.status = status;
  }
}

/** A bad option given to a constructor; the message names the option. */
export class InvalidOptionError extends LlmProxyError {
  readonly option: string;

  constructor(option: string, expected: string, options?: { cause?: unknown }) {
    super('invalid_option', 500, `express-llm-proxy: option \`${option}\` ${expected}`, options);
    this.name = 'InvalidOptionError';
    this.option = option;
  }
}

/** The proxy gave up waiting for the upstream (used as an abort reason). */
export class UpstreamTimeoutError extends LlmProxyError {
  readonly timeoutMs: number | undefined;

  constructor(message = 'The upstream provider did not answer in time', timeoutMs?: number) {
    super('upstream_timeout', 504, message);
    this.name = 'UpstreamTimeoutError';
    this.timeoutMs = timeoutMs;
  }
}

/** The client went away before the response was complete (used as an abort reason). */
export class ClientClosedRequestError extends LlmProxyError {
  constructor() {
    super('client_closed_request', 499, 'The client closed the request');
    this.name = 'ClientClosedRequestError';
  }
}

/** An upstream answer (as decoded) passed `maxResponseBytes`; reading stopped and the request was aborted. */
export class UpstreamResponseTooLargeError extends LlmProxyError {
  readonly maxBytes: number;

  constructor(maxBytes: number) {
    super('upstream_response_too_large', 502, `The upstream response is larger than the limit of ${maxBytes} bytes`);
    this.name = 'UpstreamResponseTooLargeError';
    this.maxBytes = maxBytes;
  }
}

/**
 * The provider registry has no usable list: `list()` did not settle within `registryTimeoutMs`,
 * or it failed (threw, rejected, or returned an invalid list) before any list was good. Maps to 503.
 */
export class RegistryUnavailableError extends LlmProxyError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('provider_registry_unavailable', 503, message, options);
    this.name = 'RegistryUnavailableError';
  }
}
