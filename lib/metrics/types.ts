/** The calls the proxy makes to record what happened; a metrics backend implements them. */
import type { Usage } from '../usage/types.js';

/** One request, once it has ended (any status: 2xx, 4xx, 499, 5xx). */
export interface RequestFinishedEvent {
  /** The API key, e.g. `chat`, `completions`, `embeddings`, `responses`, `messages`. */
  api: string;
  /** The provider that answered (the last tried); `none` when none was chosen. */
  provider: string;
  /** The client-facing model; `unknown` when no provider maps it. */
  model: string;
  /** The status the client got. */
  status: number;
  stream: boolean;
  /** From the request's arrival to its end, in seconds. */
  durationS: number;
  /** From the request's arrival to the first body byte sent, in seconds; streams that sent one. */
  ttftS?: number;
  /** Time spent in the proxy itself, in seconds. */
  overheadS?: number;
  usage?: Usage;
  /** A short, low-cardinality error code when the request failed (e.g. `upstream_timeout`). */
  error?: string;
}

export interface UpstreamErrorEvent {
  provider: string;
  model: string;
  /** `connection`, `timeout`, `request`, `status_<code>` or `stream_error`. */
  kind: string;
}

export interface FailoverEvent {
  /** The provider given up on. */
  fromProvider: string;
  model: string;
}

export type CircuitState = 'closed' | 'open' | 'half_open';

export interface ProxyMetrics {
  /** Once per request when it ended (also 4xx, 499, 5xx). provider 'none' when none was chosen; model 'unknown' when no provider maps it. */
  requestFinished(e: RequestFinishedEvent): void;
  upstreamError(e: UpstreamErrorEvent): void;
  failover(e: FailoverEvent): void;
  streamStarted(api: string): void;
  streamEnded(api: string): void;
  clientDisconnected(api: string): void;
  circuitState(provider: string, model: string, state: CircuitState): void;
  providerHealth(provider: string, model: string, healthy: boolean): void;
}
