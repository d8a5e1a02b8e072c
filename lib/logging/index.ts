export { requestLogger, buildLogEntry } from './request-logger.js';
export type { LogSink, NodeMiddleware, RequestLoggerOptions } from './request-logger.js';
export { requestContext, requestIdFrom } from './context.js';
export type { FailedAttempt, RequestContext } from './context.js';
