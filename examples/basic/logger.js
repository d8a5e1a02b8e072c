/**
 * The example's logger: readable one-line entries on a terminal, JSON lines otherwise (a log
 * collector reads those). Any winston or pino logger, `console`, or an object with
 * info/warn/error methods works as the router's `logger`; this one is winston.
 */
import winston from 'winston';

const { combine, timestamp, json, printf, colorize } = winston.format;

/** Already in the message (`POST /llm/v1/chat/completions 200`), or too long for a terminal line. */
const SHOWN_IN_MESSAGE = new Set(['method', 'path', 'status', 'request_id', 'timestamp']);

const value = (v) => (typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v));

/** `12:00:01 info POST /llm/v1/chat/completions 200 provider=mock model=gpt-4o-mini duration=12.3` */
const oneLine = printf((info) => {
  const fields = Object.entries(info)
    .filter(([key]) => key !== 'level' && key !== 'message' && !SHOWN_IN_MESSAGE.has(key))
    .map(([key, v]) => `${key}=${value(v)}`)
    .join(' ');
  return `${info.timestamp} ${info.level} ${info.message}${fields ? ` ${fields}` : ''}`;
});

/**
 * @param {{ pretty?: boolean, stream?: import('node:stream').Writable }} [options]
 *   `pretty` (default: stdout is a terminal) picks one-line entries over JSON; `stream` replaces
 *   the console (for tests).
 */
export function createExampleLogger({ pretty = Boolean(process.stdout.isTTY), stream } = {}) {
  const format = pretty
    ? combine(timestamp({ format: 'HH:mm:ss' }), ...(stream ? [] : [colorize({ level: true })]), oneLine)
    : combine(timestamp(), json());
  const transport = stream ? new winston.transports.Stream({ stream }) : new winston.transports.Console();
  return winston.createLogger({ level: 'info', format, transports: [transport] });
}
