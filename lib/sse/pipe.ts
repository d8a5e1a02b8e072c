/**
 * Forwards a server-sent-event stream to a client: headers at once, every upstream chunk the
 * moment it arrives (bytes unchanged), heartbeats while the upstream is silent, and timeouts
 * that end the stream with an SSE error event the openai client turns into an APIError.
 */
import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { tryReadDirectly } from '../transport/direct-read.js';

export type SseEndReason = 'done' | 'ttft_timeout' | 'stream_idle_timeout' | 'upstream_stream_error' | 'client_closed';

export interface SsePipeResult {
  reason: SseEndReason;
  /** The upstream error when `reason` is `upstream_stream_error`. */
  error?: unknown;
  /** Bytes forwarded to the client (heartbeats and error events not counted). */
  bytes: number;
}

export interface PipeSseOptions {
  /**
   * Milliseconds to wait for the first body chunk, counted from `startedAt`. When it passes,
   * the stream ends with a `ttft_timeout` error event. Default: no limit.
   */
  ttftMs?: number;
  /** `performance.now()` when the upstream request left; default now. */
  startedAt?: number;
  /** Longest silence between chunks before a `stream_idle_timeout` error event. Default: no limit. */
  idleMs?: number;
  /** Write `: keep-alive` after this much upstream silence, at event boundaries only. 0 = off. Default 15000. */
  heartbeatMs?: number;
  /** Called when the stream ends early, to abort the upstream request. */
  abort?: (reason: SseEndReason) => void;
  /** Called once, right after the first upstream chunk was written. */
  onFirstChunk?: () => void;
  /** Called right after the response headers went out (at the latest one event-loop turn after the call). */
  onHeaders?: () => void;
}

const ERROR_MESSAGES: Record<Exclude<SseEndReason, 'done' | 'client_closed'>, string> = {
  ttft_timeout: 'The upstream provider sent no token in time',
  stream_idle_timeout: 'The upstream provider stopped sending for too long',
  upstream_stream_error: 'The upstream stream failed before it was complete',
};

const ignore = (): void => {};
const HEARTBEAT = Buffer.from(': keep-alive\n\n');
const LF = 0x0a;
const CR = 0x0d;

/** The SSE event that reports a proxy error inside a stream. */
export function sseErrorEvent(code: string, message: string): string {
  return `data: ${JSON.stringify({ error: { message, type: 'proxy_error', param: null, code } })}\n\n`;
}

/**
 * True when `tail` (the last three bytes written, packed oldest first as `a << 16 | b << 8 | c`)
 * ends an event: a line terminator (CRLF, LF or CR) right after another one, i.e. a blank line,
 * in any mix of newline styles. `x\r\n` ends a line but not an event, so CRLF is stripped as a
 * unit before looking back.
 */
function endsEvent(tail: number): boolean {
  const a = tail >>> 16;
  const b = (tail >>> 8) & 0xff;
  const c = tail & 0xff;
  let before: number; // the byte before the final line terminator
  if (b === CR && c === LF) {
    before = a;
  } else if (c === LF || c === CR) {
    before = b;
  } else {
    return false;
  }
  return before === LF || before === CR;
}

/** The last three bytes after `chunk` was written, given the three before it (both packed; no allocation per chunk). */
function nextTail(tail: number, chunk: Buffer): number {
  const n = chunk.length;
  if (n >= 3) {
    return (chunk[n - 3] << 16) | (chunk[n - 2] << 8) | chunk[n - 1];
  }
  for (let i = 0; i < n; i++) {
    tail = ((tail << 8) | chunk[i]) & 0xffffff;
  }
  return tail;
}

/** Sets the streaming headers (unless already sent) and flushes them. */
export function sendSseHeaders(res: ServerResponse): void {
  if (!res.headersSent) {
    setSseHeaders(res);
    res.flushHeaders();
  }
}

function setSseHeaders(res: ServerResponse): void {
  if (!res.hasHeader('content-type')) {
    res.setHeader('content-type', 'text/event-stream; charset=utf-8');
  }
  res.setHeader('cache-control', 'no-cache');
  res.setHeader('x-accel-buffering', 'no');
  res.removeHeader('content-length');
  res.removeHeader('content-encoding');
}

/**
 * Pipes `source` to `res` as SSE and resolves when the stream is over, however it ended.
 * Never rejects.
 *
 * @example
 * const upstream = await request(url, { method: 'POST', body });
 * res.statusCode = 200;
 * await pipeSse(upstream.body, res, { idleMs: 60_000 });
 */
export function pipeSse(source: Readable, res: ServerResponse, options: PipeSseOptions = {}): Promise<SsePipeResult> {
  const { ttftMs, idleMs, abort, onFirstChunk } = options;
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const startedAt = options.startedAt ?? performance.now();

  return new Promise((resolve) => {
    let bytes = 0;
    let tail = (LF << 16) | (LF << 8) | LF; // the stream starts at an event boundary
    let firstChunk = true;
    let finished = false;
    let timeout: NodeJS.Timeout | undefined;
    let heartbeat: NodeJS.Timeout | undefined;
    let waitingForDrain = false;
    let flushHeadersSoon: NodeJS.Immediate | undefined = undefined;
    let headersReported = false;
    const headersOut = (): void => {
      if (!headersReported && res.headersSent) {
        headersReported = true;
        options.onHeaders?.();
      }
    };

    // compression() buffers what it compresses until flushed; it sets res.flush before routes run.
    const resFlush = (res as ServerResponse & { flush?: () => void }).flush;
    const flush = typeof resFlush === 'function' ? () => resFlush.call(res) : ignore;

    const finish = (reason: SseEndReason, error?: unknown): void => {
      if (finished) return;
      finished = true;
      clearImmediate(flushHeadersSoon);
      clearTimeout(timeout);
      clearTimeout(heartbeat);
      // The listeners stay: each returns at once from here on, and the one on 'error' keeps an
      // error the source emits after this point (undici's body does when destroyed) from going
      // unheard, which would crash the process. Both objects die with this response.
      if (reason !== 'done') {
        abort?.(reason);
        source.destroy();
      }
      if (reason !== 'done' && reason !== 'client_closed' && !res.destroyed) {
        // Close a partly forwarded event first, so the error event stands on its own.
        const prefix = endsEvent(tail) ? '' : '\n\n';
        res.end(prefix + sseErrorEvent(reason, ERROR_MESSAGES[reason]));
      } else if (reason === 'done' && !res.writableEnded) {
        res.end();
      }
      flush();
      headersOut();
      resolve(error === undefined ? { reason, bytes } : { reason, error, bytes });
    };

    // Chunks only stamp the time; the two timers look at the stamp when they fire and re-arm for
    // what is left. Re-arming real timers on every chunk would cost four timer operations per chunk.
    let lastUpstreamAt = startedAt;
    let lastBeatAt = startedAt;

    const armTimeout = (): void => {
      clearTimeout(timeout);
      if (firstChunk && ttftMs !== undefined) {
        const remaining = Math.max(0, startedAt + ttftMs - performance.now());
        timeout = setTimeout(() => finish('ttft_timeout'), remaining);
      } else if (!firstChunk && idleMs !== undefined) {
        timeout = setTimeout(checkIdle, idleMs);
      }
    };

    const checkIdle = (): void => {
      if (waitingForDrain) return; // the client is the slow one; onDrain re-arms
      const left = lastUpstreamAt + idleMs! - performance.now();
      if (left <= 1) finish('stream_idle_timeout');
      else timeout = setTimeout(checkIdle, left);
    };

    const beat = (): void => {
      const now = performance.now();
      const left = Math.max(lastUpstreamAt, lastBeatAt) + heartbeatMs - now;
      if (left > 1) {
        heartbeat = setTimeout(beat, left);
        return;
      }
      // Only between events: a comment inside a half-sent event would corrupt it.
      if (!waitingForDrain && endsEvent(tail)) {
        res.write(HEARTBEAT);
        flush();
      }
      lastBeatAt = now;
      heartbeat = setTimeout(beat, heartbeatMs);
    };

    /** Forwards one chunk; false when the client's socket is full and the source should pause. */
    const forward = (chunk: Buffer): boolean => {
      if (finished || chunk.length === 0) return true;
      bytes += chunk.length;
      lastUpstreamAt = performance.now();
      tail = nextTail(tail, chunk);
      const ok = res.write(chunk);
      flush();
      if (!headersReported) headersOut();
      if (firstChunk) {
        firstChunk = false;
        onFirstChunk?.();
        armTimeout(); // TTFT is met: the idle clock takes over
      }
      if (ok) return true;
      if (!waitingForDrain) {
        // Slow client: stop reading the upstream (and its idle clock) until the socket drains.
        waitingForDrain = true;
        res.once('drain', onDrain);
      }
      return false;
    };
    const onData = (chunk: Buffer): void => {
      if (!forward(chunk)) source.pause();
    };
    const onDrain = (): void => {
      if (finished) return;
      waitingForDrain = false;
      lastUpstreamAt = performance.now(); // the upstream could not send while we waited
      armTimeout();
      if (direct) direct.resume();
      else source.resume();
    };
    const onEnd = (): void => finish('done');
    const onError = (error: unknown): void => finish('upstream_stream_error', error);
    const onClose = (): void => {
      if (!res.writableFinished) finish('client_closed');
    };

    res.once('close', onClose);
    if (res.destroyed) {
      finish('client_closed');
      return;
    }
    if (!res.headersSent) setSseHeaders(res);
    armTimeout();
    if (heartbeatMs > 0) heartbeat = setTimeout(beat, heartbeatMs);
    // A direct read hands over the chunks already received at once, and may even end here.
    const direct = tryReadDirectly(source, { data: forward, end: onEnd, error: onError });
    if (!direct) {
      source.on('data', onData);
      source.once('end', onEnd);
      source.on('error', onError);
    }
    if (finished) return;
    if (res.headersSent) {
      headersOut(); // sent by the caller, or with a chunk that was already here
    } else {
      // Headers leave at the end of this event-loop turn, or with the first chunk if it comes
      // sooner: the client has them just as soon, and it saves a write per stream.
      flushHeadersSoon = setImmediate(() => {
        if (!finished && !res.headersSent) res.flushHeaders();
        headersOut();
      });
    }
  });
}
