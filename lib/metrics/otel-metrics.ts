/**
 * ProxyMetrics recorded as the OpenTelemetry GenAI semantic-convention instruments, on a Meter the
 * host owns (this module never touches the SDK). Only `requestFinished` maps to those conventions;
 * the other calls have no GenAI instrument and record nothing here.
 *
 * - `gen_ai.server.request.duration` (s): every request.
 * - `gen_ai.server.time_to_first_token` (s): successful streams that sent a first byte.
 * - `gen_ai.server.time_per_output_token` (s): successful streams with >= 2 output tokens,
 *   (duration - ttft) / (output_tokens - 1).
 * - `gen_ai.client.token.usage` ({token}): input and output counts when the upstream reported them
 *   (no output count for embeddings, which have none).
 *
 * Attributes: `gen_ai.operation.name`, `gen_ai.provider.name` (the provider key), `gen_ai.request.model`
 * (the client-facing model) and, on failures, `error.type` (the event's error code, else the status).
 * Bucket boundaries are the ones the conventions advise.
 */
import type { Attributes, Histogram, Meter } from '@opentelemetry/api';
import { InvalidOptionError } from '../errors/errors.js';
import type { ProxyMetrics, RequestFinishedEvent } from './types.js';

export interface OtelMetricsOptions {
  /** A Meter from the host's MeterProvider, e.g. `metrics.getMeter('express-llm-proxy')`. */
  meter: Meter;
}

/**
 * `gen_ai.operation.name` per API. Responses and Anthropic Messages are chat operations in the
 * conventions' list (the OpenAI conventions tell Chat Completions from Responses with
 * `openai.api.type`, not by operation); unknown APIs pass their own name.
 */
export const GEN_AI_OPERATION: Readonly<Record<string, string>> = Object.freeze({
  chat: 'chat',
  completions: 'text_completion',
  embeddings: 'embeddings',
  responses: 'chat',
  messages: 'chat',
});

const DURATION_BUCKETS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];
const TTFT_BUCKETS = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0];
const TPOT_BUCKETS = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5];
const TOKEN_BUCKETS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];

const noop = (): void => {};

export function createOtelMetrics(options: OtelMetricsOptions): ProxyMetrics {
  const meter = options?.meter;
  if (typeof meter?.createHistogram !== 'function') {
    throw new InvalidOptionError('meter', 'must be an OpenTelemetry Meter (from @opentelemetry/api)');
  }
  const histogram = (name: string, unit: string, description: string, boundaries: number[]): Histogram =>
    meter.createHistogram(name, { unit, description, advice: { explicitBucketBoundaries: boundaries } });
  const duration = histogram('gen_ai.server.request.duration', 's', 'Generative AI server request duration such as time-to-last byte or last output token.', DURATION_BUCKETS);
  const ttft = histogram('gen_ai.server.time_to_first_token', 's', 'Time to generate first token for successful responses.', TTFT_BUCKETS);
  const tpot = histogram('gen_ai.server.time_per_output_token', 's', 'Time per output token generated after the first token for successful responses.', TPOT_BUCKETS);
  const tokens = histogram('gen_ai.client.token.usage', '{token}', 'Number of input and output tokens used.', TOKEN_BUCKETS);

  return {
    requestFinished(e: RequestFinishedEvent): void {
      const failed = e.error !== undefined || e.status >= 400;
      const operation = Object.hasOwn(GEN_AI_OPERATION, e.api) ? GEN_AI_OPERATION[e.api] : e.api;
      const attributes: Attributes = {
        'gen_ai.operation.name': operation,
        'gen_ai.provider.name': e.provider,
        'gen_ai.request.model': e.model,
      };
      if (failed) attributes['error.type'] = e.error ?? String(e.status);
      duration.record(e.durationS, attributes);
      if (!failed && e.stream && e.ttftS !== undefined) {
        ttft.record(e.ttftS, attributes);
        const output = e.usage?.output_tokens ?? 0;
        if (output >= 2 && e.durationS >= e.ttftS) tpot.record((e.durationS - e.ttftS) / (output - 1), attributes);
      }
      if (e.usage) {
        tokens.record(e.usage.input_tokens, { ...attributes, 'gen_ai.token.type': 'input' });
        // Embeddings have no output; their 0 would only weigh down the output distribution.
        if (operation !== 'embeddings') tokens.record(e.usage.output_tokens, { ...attributes, 'gen_ai.token.type': 'output' });
      }
    },
    upstreamError: noop,
    failover: noop,
    streamStarted: noop,
    streamEnded: noop,
    clientDisconnected: noop,
    circuitState: noop,
    providerHealth: noop,
  };
}
