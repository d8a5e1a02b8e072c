// The `express-llm-proxy/errors` entry: the classifier and error classes, without Express.
export { classifyError } from './classify.js';
export type { ClassifiedError, ErrorKind } from './classify.js';
export {
  LlmProxyError,
  InvalidOptionError,
  UpstreamTimeoutError,
  ClientClosedRequestError,
  UpstreamResponseTooLargeError,
  RegistryUnavailableError,
} from './errors.js';
export type { LlmProxyErrorCode } from './errors.js';
