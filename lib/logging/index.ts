export { requestLogger } from './request-logger.js';
export type { LogSink, NodeMiddleware, RequestLoggerOptions } from './request-logger.js';
export type { LevelLogger, LogMethod, Logger } from './logger.js';
