/**
 * The default logger: one JSON line per entry on stdout (`{"timestamp","level","message",…}`),
 * built with one `JSON.stringify` of the fields and written in batches. winston's logger runs each
 * entry through its stream pipeline and its formats (a second serialisation, with sorted keys);
 * the request log is on by default, so its cost is paid on every request (BENCHMARKS.md has the
 * comparison).
 *
 * Writes to stdout are synchronous system calls on Linux (files and pipes alike), and at a steady
 * request rate most event-loop turns carry one request: writing once per turn cost a write and an
 * extra turn per request. So after a quiet spell an entry leaves on the next turn, as before; while
 * entries keep coming, they leave together at most every `batchMs`.
 */
import type { LogSink } from './logger.js';

/** Where the lines go: `process.stdout` by default. */
export interface LineSink {
  write(chunk: string): unknown;
}

export interface JsonLinesLogOptions {
  /** Entries below this level are not even built. Default `info`. */
  level?: 'error' | 'warn' | 'info' | 'debug' | undefined;
  /** While entries keep coming, the longest an entry waits to be written. Default 10 ms. */
  batchMs?: number | undefined;
  /** Pending bytes (about) that are written at once, whatever the time. Default 64 KiB. */
  maxPendingBytes?: number | undefined;
  /** The clock, in ms (tests inject one). Default `Date.now`. */
  now?: (() => number) | undefined;
}

const LEVELS: Record<string, number> = { error: 0, warn: 1, info: 2, debug: 3 };
/** The known levels as they appear in a line, ready to splice in. */
const LEVEL_FIELDS: Record<string, string> = { error: '","level":"error","message":', warn: '","level":"warn","message":', info: '","level":"info","message":', debug: '","level":"debug","message":' };

/** `000` to `999`. */
const MILLISECONDS = Array.from({ length: 1000 }, (_, ms) => String(ms).padStart(3, '0'));

export class JsonLinesLog implements LogSink {
  #pending = '';
  #scheduled = false;
  #closed = false;
  #flushedAt = -Infinity;
  // The ISO timestamp up to its milliseconds (`2026-11-29T04:15:10.`), for the second it is of:
  // toISOString costs more than the whole rest of a line's head.
  #second = NaN;
  #secondPrefix = '';
  readonly #threshold: number;
  readonly #batchMs: number;
  readonly #maxPending: number;
  readonly #now: () => number;
  readonly #flush = (): void => {
    this.#scheduled = false;
    this.#flushedAt = this.#now();
    const lines = this.#pending;
    this.#pending = '';
    if (lines !== '') this.out.write(lines);
  };

  constructor(
    private readonly out: LineSink = process.stdout,
    options: JsonLinesLogOptions = {},
  ) {
    this.#threshold = LEVELS[options.level ?? 'info'];
    this.#batchMs = options.batchMs ?? 10;
    this.#maxPending = options.maxPendingBytes ?? 64 * 1024;
    this.#now = options.now ?? Date.now;
  }

  /** True when an entry at `level` would be written (so a caller can skip building it). */
  isLevelEnabled(level: string): boolean {
    return (LEVELS[level] ?? LEVELS.info) <= this.#threshold;
  }

  log(level: string, message: string, meta: Record<string, unknown>): void {
    if (!this.isLevelEnabled(level)) return;
    const now = this.#now();
    this.#pending += this.#line(now, level, message, meta);
    if (this.#closed || this.#pending.length >= this.#maxPending) {
      this.#flush(); // a timer may still be set: it then finds nothing to write
      return;
    }
    if (this.#scheduled) return;
    this.#scheduled = true;
    const quiet = now - this.#flushedAt;
    if (quiet >= this.#batchMs) setImmediate(this.#flush);
    else setTimeout(this.#flush, this.#batchMs - quiet);
  }

  /**
   * Writes what is pending and, from now on, each entry as it comes: the router is closing, and the
   * entries of its last requests (some are written after `close()` resolved) must not wait for a
   * batch that a process exit would cut off.
   */
  close(): void {
    this.#closed = true;
    this.#flush();
  }

  /**
   * `{"timestamp":…,"level":…,"message":…` and then the fields as `JSON.stringify` writes them, with
   * no object built to hold all four. A field named like one of the first three comes later in the
   * line, so a JSON reader takes the field's value, as it would have with the fields spread last.
   */
  #line(now: number, level: string, message: string, meta: Record<string, unknown>): string {
    let fields: string;
    try {
      fields = JSON.stringify(meta) ?? '{}';
      if (fields.charCodeAt(0) !== 0x7b) fields = `{"meta":${fields}}`; // fields that are not an object (a `toJSON`, say)
    } catch {
      fields = '{"meta_error":"the entry could not be serialised"}';
    }
    const head = `{"timestamp":"${this.#timestamp(now)}${LEVEL_FIELDS[level] ?? `","level":${JSON.stringify(level)},"message":`}${JSON.stringify(message)}`;
    return fields.length > 2 ? `${head},${fields.slice(1)}\n` : `${head}}\n`;
  }

  #timestamp(now: number): string {
    const ms = Math.floor(now);
    const second = Math.floor(ms / 1000);
    if (second !== this.#second) {
      this.#second = second;
      this.#secondPrefix = new Date(second * 1000).toISOString().slice(0, 20);
    }
    return `${this.#secondPrefix}${MILLISECONDS[ms - second * 1000]}Z`;
  }
}
