/** One health probe: a real, minimal request to one mapped model, timed to the end of its body. */
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { classifyError } from '../errors/classify.js';
import type { UpstreamResponse, UpstreamTransport } from '../transport/types.js';
import { upstreamHeaders } from '../registry/upstream-headers.js';
import { endpointUrl } from '../registry/endpoint.js';
import { defaultProbeMode, PROBE_MODES } from '../registry/probe-modes.js';
import type { ResolvedModel, ResolvedProvider } from '../registry/types.js';
import type { ModelHealth } from './types.js';

/** Error bodies are read whole for timing, but only this much is kept to find the message. */
const KEPT_BODY_BYTES = 64 * 1024;
const MAX_MESSAGE_LENGTH = 300;

/** The path, body and headers for a model: its own `body`, else the provider's, else the mode's default. */
export function probeRequest(provider: ResolvedProvider, mapping: ResolvedModel): { path: string; body: Record<string, unknown>; headers: Readonly<Record<string, string>> | undefined } {
  const mode = PROBE_MODES[mapping.healthCheck?.mode ?? defaultProbeMode(provider.type, provider.apis)];
  const base = mapping.healthCheck?.body ?? provider.healthCheck?.body ?? mode.body;
  // The proxy owns `model`, whatever a configured body says; it goes first, as in the default body.
  const body: Record<string, unknown> = { model: mapping.upstream, ...base };
  body.model = mapping.upstream;
  return { path: mode.path, body, headers: mode.headers };
}

/** Rejects with the signal's reason once it aborts, so a transport that ignores signals cannot hang a probe. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal, onLate: (value: T) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        if (signal.aborted) onLate(value);
        else resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** Reads the body to its end (keeping the first bytes); destroyed on abort. */
function readBody(body: Readable, signal: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let kept = 0;
    const onAbort = () => body.destroy(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    const settle = (error?: unknown) => {
      signal.removeEventListener('abort', onAbort);
      if (error === undefined) resolve(Buffer.concat(chunks).toString('utf8'));
      else reject(error);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    body.on('data', (chunk: Buffer | string) => {
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      if (kept < KEPT_BODY_BYTES) {
        chunks.push(buffer.subarray(0, KEPT_BODY_BYTES - kept));
        kept += Math.min(buffer.length, KEPT_BODY_BYTES - kept);
      }
    });
    body.once('end', () => settle());
    body.once('error', settle);
    body.once('close', () => {
      if (!body.readableEnded) settle(signal.aborted ? signal.reason : new Error('upstream body closed before its end'));
    });
    if (signal.aborted) onAbort();
  });
}

/** Removes the provider's secrets and addresses from text an upstream wrote. */
function redact(text: string, provider: ResolvedProvider): string {
  const secrets = [provider.apiKey, provider.baseUrl, new URL(provider.baseUrl).host, ...Object.values(provider.headers)];
  let out = text;
  for (const secret of secrets) {
    // Short values (e.g. `1`) would shred the message and are no secret anyway.
    if (secret !== undefined && secret.length >= 6) out = out.split(secret).join('[redacted]');
  }
  return out;
}

/** `HTTP <status> - <error.message>`, or `HTTP <status>` when the body carries no message. */
export function httpErrorText(status: number, body: string, provider: ResolvedProvider): string {
  let message: unknown;
  try {
    const parsed = JSON.parse(body) as { error?: unknown };
    message = typeof parsed.error === 'string' ? parsed.error : (parsed.error as { message?: unknown } | null | undefined)?.message;
  } catch {
    message = undefined;
  }
  if (typeof message !== 'string' || message.trim() === '') return `HTTP ${status}`;
  const oneLine = redact(message, provider).replace(/\s+/g, ' ').trim();
  const short = oneLine.length > MAX_MESSAGE_LENGTH ? `${oneLine.slice(0, MAX_MESSAGE_LENGTH - 1)}…` : oneLine;
  return `HTTP ${status} - ${short}`;
}

/** `1000` → `1`, `1500` → `1.5`. */
const seconds = (ms: number): string => String(Math.round(ms) / 1000);

/**
 * Probes one model. Never rejects: every failure becomes an `unhealthy` entry whose `error` is
 * safe to show (no keys, no URLs). The timeout covers the response body too.
 */
export async function probeModel(
  transport: UpstreamTransport,
  provider: ResolvedProvider,
  model: string,
  mapping: ResolvedModel,
  timeoutMs: number,
): Promise<ModelHealth> {
  const { path, body, headers } = probeRequest(provider, mapping);
  const result: ModelHealth = { model, upstream_model: mapping.upstream, status: 'unhealthy', response_time_ms: 0 };
  const controller = new AbortController();
  const timeout = new Error(`Timeout after ${seconds(timeoutMs)}s`);
  const timer = setTimeout(() => controller.abort(timeout), timeoutMs);
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  try {
    const response = await untilAborted(
      transport({
        url: endpointUrl(provider, path),
        method: 'POST',
        headers: upstreamHeaders(provider, `health-${randomUUID()}`, headers),
        body: Buffer.from(JSON.stringify(body)),
        signal: controller.signal,
      }),
      controller.signal,
      (late: UpstreamResponse) => late.body.destroy(),
    );
    result.http_status = response.status;
    const text = await readBody(response.body, controller.signal);
    result.response_time_ms = elapsed();
    if (response.status >= 200 && response.status < 300) {
      result.status = 'healthy';
    } else {
      result.error = httpErrorText(response.status, text, provider);
    }
  } catch (error) {
    if (controller.signal.reason === timeout) {
      result.response_time_ms = elapsed();
      result.error = timeout.message;
    } else {
      result.response_time_ms = elapsed(); // time until the failure, so every probe has one
      result.error = classifyError(error).message;
    }
  } finally {
    clearTimeout(timer);
  }
  return result;
}
