/** The proxy's clocks, resolved from the `timeouts` option. */
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
