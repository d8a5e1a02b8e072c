/**
 * What the router needs to know about one API it serves: its routes, where each goes upstream,
 * and how the proxy's own errors look in it (as a JSON answer and inside a stream). Adding an API
 * is one module that exports an `Api`, plus one line in `./index.ts`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ErrorFields } from '../errors/openai-error.js';
import type { ProviderIndex } from '../registry/provider-index.js';
import type { ProviderApi } from '../registry/types.js';
import type { UsageReader } from '../usage/readers.js';

/** The APIs providers serve, and `models`, which the router answers itself. */
export type ApiName = ProviderApi | 'models';

/** A route whose body names a model: read once, mapped, forwarded, failed over. */
export interface ProxyRoute {
  kind: 'proxy';
  method: 'POST';
  /** Relative to the mount point, e.g. `/v1/chat/completions`. */
  path: string;
  /** Appended to the provider's base URL, e.g. `/chat/completions`. */
  upstreamPath: string;
  /** Pass the client's query string on (Claude Code posts `/v1/messages?beta=true`). Default: dropped. */
  keepQuery?: boolean;
}

/**
 * A request about a response the upstream keeps (`GET /v1/responses/:id`, ...): no body, no
 * model. It goes to the provider that created the response, found by the `:id` in its path (see
 * `ResponseAffinity`), in one attempt: the state is there and nowhere else.
 */
export interface FollowUpRoute {
  kind: 'follow-up';
  method: 'GET' | 'POST' | 'DELETE';
  /** Relative to the mount point, with an `:id` segment. */
  path: string;
  /** Appended to the provider's base URL, with the same `:id` segment (the id, URL-encoded). */
  upstreamPath: string;
  /** Pass the client's query string on (`?stream=true&starting_after=…`). Default: dropped. */
  keepQuery?: boolean;
}

/** What a route the router answers itself gets. */
export interface LocalRouteContext {
  req: IncomingMessage;
  res: ServerResponse;
  /** The current provider index (the registry's latest good list). */
  index: () => ProviderIndex | Promise<ProviderIndex>;
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

export type ApiRoute = ProxyRoute | FollowUpRoute | LocalRoute;

/**
 * One stream's view of the API: sees each forwarded chunk (when it needs to), and writes the
 * proxy's error event in the API's own framing.
 */
export interface StreamTap {
  /** Each upstream chunk, after it was forwarded; absent when the API needs none. */
  chunk?(chunk: Buffer): void;
  /**
   * The SSE text of a proxy error, ending with a blank line. `code` is the pipe's reason:
   * `ttft_timeout`, `stream_idle_timeout`, `stream_max_duration`, `upstream_stream_error` or
   * `proxy_closed`.
   */
  errorEvent(code: string, message: string): string;
  /**
   * True once the upstream reported a failure inside its 2xx stream (an `error` event, a
   * `response.failed`): the stream then counts as a provider failure. Absent when the API's taps
   * do not look.
   */
  readonly upstreamFailed?: boolean;
}

/** What a stream tap tells the proxy as the stream passes. */
export interface StreamTapHooks {
  /** The upstream named the response this stream creates (at most once, as soon as it is seen). */
  responseId(id: string): void;
}

/**
 * For an API whose upstream keeps each response it creates (the Responses API): how to tell
 * which one an answer created, and which one a new request continues. The router remembers the
 * provider of each id, and sends follow-ups and continuations there.
 */
export interface ResponseAffinity {
  /** The id of the response a 2xx JSON answer created (a bounded scan of its start, not a parse). */
  idOfAnswer(body: Buffer): string | undefined;
  /** The response a new request continues (`previous_response_id`), which pins it to its provider. */
  continues(body: Readonly<Record<string, unknown>>): string | undefined;
}

export interface Api {
  readonly name: ApiName;
  readonly routes: readonly ApiRoute[];
  /** The JSON body of a proxy-made error with `status`, in this API's envelope. */
  errorBody(status: number, error: ErrorFields): unknown;
  /** A tap for one stream (may return a shared object when it keeps no state). */
  streamTap(hooks: StreamTapHooks): StreamTap;
  /** Where the upstream reports token usage in this API's answers and streams. */
  readonly usage?: UsageReader;
  /** Client request headers passed upstream as they are (lower-case); every other one stays behind. */
  readonly forwardHeaders?: readonly string[];
  /** Set when the upstream keeps state per response (see `ResponseAffinity`). */
  readonly affinity?: ResponseAffinity;
  /**
   * True when this API's streams carry usage only if the body asks with
   * `stream_options.include_usage` (OpenAI chat and completions); `usage.includeInStreams` then asks.
   */
  readonly streamUsageOptIn?: boolean;
}
