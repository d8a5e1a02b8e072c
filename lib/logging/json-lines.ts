/**
 * The default logger: one JSON line per entry on stdout (`{"timestamp","level","message",…}`),
 * built with one `JSON.stringify` and written in batches, one write per event-loop turn however
 * many entries the turn produced. winston's logger runs each entry through its stream pipeline and
 * its formats (a second serialisation, with sorted keys); the request log is on by default, so its
 * cost is paid on every request (BENCHMARKS.md has the comparison).
 */
import type { LogSink } from './logger.js';

/** Where the lines go: `process.stdout` by default. */
export interface LineSink {
  write(chunk: string): unknown;
}

const LEVELS: Record<string, number> = { error: 0, warn: 1, info: 2, debug: 3 };

export class JsonLinesLog implements LogSink {
  #pending = '';
  #scheduled = false;
  readonly #threshold: number;
  readonly #flush = (): void => {
    this.#scheduled = false;
    const lines = this.#pending;
    this.#pending = '';
    if (lines !== '') this.out.write(lines);
  };

  constructor(
    private readonly out: LineSink = process.stdout,
    /** Entries below this level are not even built. Default `info`. */
    level: 'error' | 'warn' | 'info' | 'debug' = 'info',
  ) {
    this.#threshold = LEVELS[level];
  }

  /** True when an entry at `level` would be written (so a caller can skip building it). */
  isLevelEnabled(level: string): boolean {
    return (LEVELS[level] ?? LEVELS.info) <= this.#threshold;
  }

  log(level: string, message: string, meta: Record<string, unknown>): void {
    if (!this.isLevelEnabled(level)) return;
    let line: string;
    try {
      line = JSON.stringify({ timestamp: new Date().toISOString(), level, message, ...meta });
    } catch {
      line = JSON.stringify({ timestamp: new Date().toISOString(), level, message, meta_error: 'the entry could not be serialised' });
    }
    this.#pending += `${line}\n`;
    if (!this.#scheduled) {
      this.#scheduled = true;
      // The entries of this turn leave together, at the start of the next one.
      setImmediate(this.#flush);
    }
  }

  /** Writes what is pending now (for a process about to exit). */
  flush(): void {
    this.#flush();
  }
}
