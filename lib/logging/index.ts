export { requestLogger, buildLogEntry } from './request-logger.js';
export type { LogSink, NodeMiddleware, RequestLoggerOptions } from './request-logger.js';
export { requestContext, requestIdFrom } from '../http/request-state.js';
export type { FailedAttempt, RequestContext } from '../http/request-state.js';
