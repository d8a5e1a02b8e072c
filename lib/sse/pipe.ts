/**
 * Forwards a server-sent-event stream to a client: headers at once, every upstream chunk the
 * moment it arrives (bytes unchanged), heartbeats while the upstream is silent, and clocks that
 * end the stream with an error event in the stream's own framing.
 */
import type { ServerResponse } from 'node:http';
import { DEFAULT_HEARTBEAT_MS } from '../defaults.js';
import type { Readable } from 'node:stream';
import { tryReadDirectly } from '../transport/direct-read.js';
import { FirstDataDetector } from './first-data.js';
import { endsEvent, nextTail, START_OF_STREAM } from './tail.js';

export type SseEndReason =
  | 'done'
  | 'ttft_timeout'
  | 'stream_idle_timeout'
  | 'stream_max_duration'
  | 'upstream_stream_error'
  | 'proxy_closed'
  | 'client_closed'
  | 'client_stalled';

export interface SsePipeResult {
  reason: SseEndReason;
  /** The upstream error when `reason` is `upstream_stream_error`. */
  error?: unknown;
  /** Bytes forwarded to the client (heartbeats and error events not counted). */
  bytes: number;
}

/** Whether the client is still there (the proxy shares one watcher per request this way). */
export interface ClientWatch {
  /** True once the connection closed before the response was complete. */
  readonly gone: boolean;
  /** Calls `listener` once when the client leaves; returns a function that unsubscribes. */
  onGone(listener: () => void): () => void;
}

/** The default watch: the response's own 'close' before it finished. */
function watchResponse(res: ServerResponse): ClientWatch {
  return {
    gone: res.destroyed && !res.writableFinished,
    onGone(listener) {
      const onClose = (): void => {
        if (!res.writableFinished) listener();
      };
      res.once('close', onClose);
      return () => res.removeListener('close', onClose);
    },
  };
}

/** Something that can tell the pipe to stop (the router's shutdown). */
export interface StopWatch {
  /** Calls `listener` once when the pipe must stop; returns a function that unsubscribes. */
  onStop(listener: () => void): () => void;
}

export interface PipeSseOptions {
  /**
   * Milliseconds to wait for the first data event (comment lines do not count), from
   * `startedAt`. When it passes, the stream ends with a `ttft_timeout` error event. Default: no limit.
   */
  ttftMs?: number;
  /** `performance.now()` when the upstream request left; default now. */
  startedAt?: number;
  /**
   * Longest silence between upstream chunks before a `stream_idle_timeout` error event; also how
   * long a client that reads nothing may hold the stream (then it is closed: `client_stalled`).
   * Default: no limit.
   */
  idleMs?: number;
  /** Longest the whole stream may last, from when the pipe starts; then a `stream_max_duration` error event. Default: no limit. */
  maxMs?: number;
  /** Write `: keep-alive` after this much upstream silence, at event boundaries only. 0 = off. Default 15000. */
  heartbeatMs?: number;
  /** Called when the stream ends early, to abort the upstream request. */
  abort?: (reason: SseEndReason) => void;
  /** Called once, right after the first chunk holding a data field was written. */
  onFirstData?: () => void;
  /** Called right after the response headers went out (at the latest one event-loop turn after the call). */
  onHeaders?: () => void;
  /** Sees every forwarded chunk, after it was written. */
  onChunk?: (chunk: Buffer) => void;
  /** The SSE text of an error event for `code`; default the OpenAI chat shape (`data: {"error":{…}}`). */
  errorEvent?: (code: string, message: string) => string;
  /** Whether the client left; default: watched on `res`. Lets a caller share one watcher. */
  client?: ClientWatch;
  /** Ends the stream with a `proxy_closed` error event when it fires. */
  stop?: StopWatch;
}

const ERROR_MESSAGES: Record<Exclude<SseEndReason, 'done' | 'client_closed' | 'client_stalled'>, string> = {
  ttft_timeout: 'The upstream provider sent no token in time',
  stream_idle_timeout: 'The upstream provider stopped sending for too long',
  stream_max_duration: 'The stream lasted longer than the proxy allows',
  upstream_stream_error: 'The upstream stream failed before it was complete',
  proxy_closed: 'The proxy is shutting down',
};

const ignore = (): void => {};
const HEARTBEAT = Buffer.from(': keep-alive\n\n');

/** The OpenAI chat-completions error event, the default `errorEvent`. */
export function sseErrorEvent(code: string, message: string): string {
  return `data: ${JSON.stringify({ error: { message, type: 'proxy_error', param: null, code } })}\n\n`;
}

function setSseHeaders(res: ServerResponse): void {
  if (!res.hasHeader('content-type')) {
    res.setHeader('content-type', 'text/event-stream; charset=utf-8');
  }
  res.setHeader('cache-control', 'no-cache');
  res.setHeader('x-accel-buffering', 'no');
  res.removeHeader('content-length');
}

/** Bytes the client's socket has not taken yet; when it shrinks, the client is reading. */
const unsent = (res: ServerResponse): number => res.socket?.writableLength ?? res.writableLength;

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
  const { ttftMs, idleMs, maxMs, abort, onFirstData, onChunk } = options;
  const heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  const startedAt = options.startedAt ?? performance.now();
  const errorEvent = options.errorEvent ?? sseErrorEvent;

  return new Promise((resolve) => {
    let bytes = 0;
    let tail = START_OF_STREAM;
    let firstData: FirstDataDetector | undefined = new FirstDataDetector();
    let finished = false;
    let timeout: NodeJS.Timeout | undefined;
    let heartbeat: NodeJS.Timeout | undefined;
    let deadline: NodeJS.Timeout | undefined;
    let waitingForDrain = false;
    let unsentAtWait = 0;
    let flushHeadersSoon: NodeJS.Immediate | undefined = undefined;
    let headersReported = false;
    const unsubscribe: (() => void)[] = [];
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
      clearTimeout(deadline);
      for (const stop of unsubscribe) stop();
      // The listeners on the source stay: each returns at once from here on, and the one on
      // 'error' keeps an error the source emits after this point (undici's body does when
      // destroyed) from going unheard, which would crash the process.
      if (reason !== 'done') {
        abort?.(reason);
        source.destroy();
      }
      if (reason === 'client_stalled') {
        res.destroy(); // it reads nothing: an error event would never arrive
      } else if (reason !== 'done' && reason !== 'client_closed' && !res.destroyed) {
        // Close a partly forwarded event first, so the error event stands on its own.
        const prefix = endsEvent(tail) ? '' : '\n\n';
        res.end(prefix + errorEvent(reason, ERROR_MESSAGES[reason]));
      } else if (reason === 'done' && !res.writableEnded) {
        res.end();
      }
      flush();
      headersOut();
      resolve(error === undefined ? { reason, bytes } : { reason, error, bytes });
    };

    // Chunks only stamp the time; the timers look at the stamp when they fire and re-arm for
    // what is left. Re-arming real timers on every chunk would cost four timer operations per chunk.
    let lastUpstreamAt = startedAt;
    let lastBeatAt = startedAt;

    const armTimeout = (): void => {
      clearTimeout(timeout);
      if (firstData && ttftMs !== undefined) {
        const remaining = Math.max(0, startedAt + ttftMs - performance.now());
        timeout = setTimeout(() => finish('ttft_timeout'), remaining);
      } else if (!firstData && idleMs !== undefined) {
        timeout = setTimeout(checkIdle, idleMs);
      }
    };

    const checkIdle = (): void => {
      if (waitingForDrain) {
        // The client is the slow one: it may take its time, but not take nothing at all.
        const now = unsent(res);
        if (now >= unsentAtWait) finish('client_stalled');
        else {
          unsentAtWait = now;
          timeout = setTimeout(checkIdle, idleMs);
        }
        return;
      }
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

    /** Writes one chunk; false when the client's socket is full (the upstream must wait for 'drain'). */
    const forward = (chunk: Buffer): boolean => {
      if (finished || chunk.length === 0) return true;
      bytes += chunk.length;
      lastUpstreamAt = performance.now();
      tail = nextTail(tail, chunk);
      const ok = res.write(chunk);
      flush();
      if (!headersReported) headersOut();
      if (firstData && firstData.found(chunk)) {
        firstData = undefined;
        onFirstData?.();
        armTimeout(); // TTFT is met: the idle clock takes over
      }
      onChunk?.(chunk);
      if (ok || waitingForDrain) return true;
      // Slow client: stop reading the upstream until the socket drains; the idle clock now
      // watches the client's progress instead of the upstream's.
      waitingForDrain = true;
      unsentAtWait = unsent(res);
      res.once('drain', onDrain);
      if (!firstData && idleMs !== undefined) {
        clearTimeout(timeout);
        timeout = setTimeout(checkIdle, idleMs);
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

    const client = options.client ?? watchResponse(res);
    if (client.gone) {
      finish('client_closed');
      return;
    }
    unsubscribe.push(client.onGone(() => finish('client_closed')));
    if (options.stop) unsubscribe.push(options.stop.onStop(() => finish('proxy_closed')));
    if (finished) return;
    if (!res.headersSent) setSseHeaders(res);
    armTimeout();
    if (heartbeatMs > 0) heartbeat = setTimeout(beat, heartbeatMs);
    if (maxMs !== undefined) deadline = setTimeout(() => finish('stream_max_duration'), maxMs);
    // The default transport's body is read directly (its chunks already received are handed over
    // at once, and it may even end here); any other source as a Readable.
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
