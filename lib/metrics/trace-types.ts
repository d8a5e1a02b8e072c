/**
 * What the proxy calls to trace a request, apart from the OpenTelemetry recorder behind it, so
 * the types the router's options reach never name @opentelemetry/api (a host without it still
 * compiles with skipLibCheck off).
 */

export interface RequestSpanAttributes {
  /** The API key (`chat`, `responses`, ...). */
  api: string;
  /** The client-facing model; may come later (`RequestTrace.setModel`) when the body is read after the span starts. */
  model?: string;
  stream?: boolean;
  /** When the request arrived, in milliseconds since the epoch; default now. */
  startTime?: number;
}

/** Trace headers of the incoming request (node:http's `req.headers` fits). */
export interface IncomingTraceHeaders {
  traceparent?: string | string[];
  tracestate?: string | string[];
}

export interface AttemptSpanAttributes {
  /** The provider key tried. */
  provider: string;
}

export interface AttemptTrace {
  /** The `traceparent` header value for the upstream request; undefined when tracing records nothing and there is no parent. */
  readonly traceparent: string | undefined;
  /** The `tracestate` header value, when there is one. */
  readonly tracestate: string | undefined;
  /** Ends the attempt's span with the upstream's status (0 when none came) and an error code if it failed. */
  end(status: number, error?: string): void;
}

export interface RequestTrace {
  /** Names the model (and whether a stream was asked for) once the body has been read; attempts started later carry it. */
  setModel(model: string, stream?: boolean): void;
  attempt(attributes: AttemptSpanAttributes): AttemptTrace;
  /** Ends the request's span with the status the client got, an error code if it failed, and the usage the upstream reported. */
  end(status: number, error?: string, usage?: SpanUsage): void;
}

/** Token counts for the request span (`gen_ai.usage.*`). */
export interface SpanUsage {
  input_tokens: number;
  output_tokens: number;
}

export interface ProxyTracing {
  startRequest(attributes: RequestSpanAttributes, incoming?: IncomingTraceHeaders): RequestTrace;
}
