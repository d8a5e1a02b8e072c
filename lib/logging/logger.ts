/**
 * The loggers a host may pass, and the one adapter that turns any of them into the `LogSink` the
 * library calls everywhere. The kind is detected once, at construction, so a log entry still costs
 * one call: a winston logger (or any `log(level, message, meta)`) is used as it is.
 */
import { Console } from 'node:console';
import { InvalidOptionError } from '../errors/errors.js';

/** What the library calls internally: winston's `log(level, message, meta)`. */
export interface LogSink {
  log(level: string, message: string, meta: Record<string, unknown>): unknown;
  /** False for a level the logger drops, so the entry need not be built (winston and pino have it). */
  isLevelEnabled?(level: string): boolean;
}

/**
 * A level method. Console-style loggers are called `(message, meta)`; pino `(meta, message)`.
 * Typed loosely so every logger's own overloads fit.
 */
export type LogMethod = (...args: never[]) => unknown;

/** A logger with level methods: `console`, pino, bunyan-like and home-made loggers. */
export interface LevelLogger {
  info: LogMethod;
  warn: LogMethod;
  error: LogMethod;
}

/**
 * What the `logger` options accept, detected once when the router (or service) is made:
 * - a winston logger, or any object with `log(level, message, meta)`: called as it is;
 * - a pino logger: `logger.info(meta, message)`;
 * - `console` (or a `new Console(...)`), or any object with `info`/`warn`/`error` methods:
 *   `logger.info(message, meta)`.
 * The library logs at `info`, `warn` and `error` only.
 */
export type Logger = LogSink | LevelLogger;

const EXPECTED = 'must be a winston or pino logger, console, or an object with info/warn/error methods (or log(level, message, meta))';

function isLevelLogger(value: Record<string, unknown>): boolean {
  return typeof value.info === 'function' && typeof value.warn === 'function' && typeof value.error === 'function';
}

/** pino keeps its serializers under a registered symbol; a child logger has it too. */
function isPino(value: Record<string | symbol, unknown>): boolean {
  return typeof value[Symbol.for('pino.serializers')] === 'object' || (typeof value.bindings === 'function' && typeof value.child === 'function' && typeof value.log !== 'function');
}

/** One call per entry: the three methods are bound once, here. */
function levelSink(logger: LevelLogger, metaFirst: boolean): LogSink {
  type Call = (...args: unknown[]) => unknown;
  const info = (logger.info as Call).bind(logger);
  const warn = (logger.warn as Call).bind(logger);
  const error = (logger.error as Call).bind(logger);
  const pick = (level: string): Call => (level === 'error' ? error : level === 'warn' ? warn : info);
  const sink: LogSink = metaFirst ? { log: (level, message, meta) => pick(level)(meta, message) } : { log: (level, message, meta) => pick(level)(message, meta) };
  const enabled = (logger as { isLevelEnabled?: unknown }).isLevelEnabled;
  if (typeof enabled === 'function') sink.isLevelEnabled = (level) => enabled.call(logger, level) as boolean;
  return sink;
}

/**
 * The sink for a host's logger; throws an `InvalidOptionError` naming `option` for anything else.
 * `console` is checked before `log()`: its `log` takes no level.
 */
export function toLogSink(logger: unknown, option = 'logger'): LogSink {
  if (typeof logger === 'object' && logger !== null) {
    const value = logger as Record<string | symbol, unknown>;
    if (logger instanceof Console && isLevelLogger(value)) return levelSink(logger as LevelLogger, false);
    if (isPino(value) && isLevelLogger(value)) return levelSink(logger as LevelLogger, true);
    if (typeof value.log === 'function') return logger as LogSink;
    if (isLevelLogger(value)) return levelSink(logger as LevelLogger, false);
  }
  throw new InvalidOptionError(option, EXPECTED);
}
