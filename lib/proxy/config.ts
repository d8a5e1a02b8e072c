/** What the proxy handlers need, resolved once by the router. */
import type { LogSink } from '../logging/request-logger.js';
import type { ProxyObserver } from '../observe/observer.js';
import type { ProviderIndex } from '../registry/provider-index.js';
import type { FailoverPolicy } from '../resilience/failover.js';
import type { UpstreamTransport } from '../transport/types.js';
import type { ResponseHomes } from './response-homes.js';
import type { Shutdown } from './shutdown.js';

export interface ProxyTimeouts {
  /** Non-streaming: until the upstream body is complete; streaming: until its headers. */
  requestMs: number;
  /** Streaming: from the upstream request to the first data event. */
  ttftMs: number;
  /** Streaming: longest silence between chunks (and longest a client may read nothing). */
  streamIdleMs: number;
  /** Streaming: longest a stream may last in all; undefined for no limit. */
  streamMaxMs: number | undefined;
}

export interface ProxyConfig {
  /** The current provider index; rejects with an `HttpError` (503 or 500) when the registry fails. */
  index: () => ProviderIndex | Promise<ProviderIndex>;
  transport: UpstreamTransport;
  failover: FailoverPolicy;
  /** Statuses that may move a request elsewhere (`retry.onStatus`). */
  retryOnStatus: readonly number[];
  timeouts: ProxyTimeouts;
  heartbeatMs: number;
  bodyLimit: number;
  /** The most read of an answer held whole. */
  maxResponseBytes: number;
  logger: LogSink;
  shutdown: Shutdown;
  /** Read token usage from answers (the request log, metrics and hooks want it). */
  readUsage: boolean;
  /** Which provider holds each response of a stateful API. */
  homes: ResponseHomes;
  /** Metrics, tracing and hooks, told of each step. */
  observer: ProxyObserver;
  /** `usage.includeInStreams`: ask for the usage of streams of APIs that report it only when asked. */
  includeUsageInStreams: boolean;
  /** Called when a host's body parser had read the request first (the router warns once). */
  onHostParsedBody?: () => void;
}
