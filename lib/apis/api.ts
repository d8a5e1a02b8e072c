/**
 * What the router needs to know about one API it serves: its routes, where each goes upstream,
 * and how the proxy's own errors look in it (as a JSON answer and inside a stream). Adding an API
 * is one module that exports an `Api`, plus one line in `./index.ts`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ErrorFields } from '../errors/openai-error.js';
import type { ProviderIndex } from '../registry/provider-index.js';
import type { UsageReader } from '../usage/readers.js';

export type ApiName = 'chat' | 'completions' | 'embeddings' | 'models';

/** A route whose body names a model: read once, mapped, forwarded, failed over. */
export interface ProxyRoute {
  kind: 'proxy';
  method: 'POST';
  /** Relative to the mount point, e.g. `/v1/chat/completions`. */
  path: string;
  /** Appended to the provider's base URL, e.g. `/chat/completions`. */
  upstreamPath: string;
}

/** What a route the router answers itself gets. */
export interface LocalRouteContext {
  req: IncomingMessage;
  res: ServerResponse;
  /** The current provider index (the registry's latest good list). */
  index: () => Promise<ProviderIndex>;
  /** Path parameters: `:name` segments, and `*` (the rest of the path, URL-decoded). */
  params: Record<string, string>;
}

/** A route the router answers without an upstream (the model list). */
export interface LocalRoute {
  kind: 'local';
  method: 'GET';
  /** Relative to the mount point; may end in `/*`, which captures the rest of the path. */
  path: string;
  handle(context: LocalRouteContext): void | Promise<void>;
}

export type ApiRoute = ProxyRoute | LocalRoute;

/**
 * One stream's view of the API: sees each forwarded chunk (when it needs to), and writes the
 * proxy's error event in the API's own framing.
 */
export interface StreamTap {
  /** Each upstream chunk, after it was forwarded; absent when the API needs none. */
  chunk?(chunk: Buffer): void;
  /** The SSE text of a proxy error (`code` such as `ttft_timeout`), ending with a blank line. */
  errorEvent(code: string, message: string): string;
}

export interface Api {
  readonly name: ApiName;
  readonly routes: readonly ApiRoute[];
  /** The JSON body of a proxy-made error with `status`, in this API's envelope. */
  errorBody(status: number, error: ErrorFields): unknown;
  /** A tap for one stream (may return a shared object when it keeps no state). */
  streamTap(): StreamTap;
  /** Where the upstream reports token usage in this API's answers and streams. */
  readonly usage?: UsageReader;
  /**
   * True when this API's streams carry usage only if the body asks with
   * `stream_options.include_usage` (OpenAI chat and completions); `usage.includeInStreams` then asks.
   */
  readonly streamUsageOptIn?: boolean;
}
