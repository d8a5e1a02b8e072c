/**
 * Spans for the proxy on a Tracer the host owns: one SERVER span per request, named
 * `{gen_ai.operation.name} {gen_ai.request.model}` as the GenAI conventions ask, and one CLIENT
 * child span per upstream attempt with the same attributes plus the provider. Each attempt gives
 * the W3C `traceparent` (and `tracestate`) to send upstream, so a provider that traces joins in.
 *
 * The request span's parent is the active span when the host's own instrumentation set one, else
 * the `traceparent` the client sent, else none. @opentelemetry/api is loaded when this is created.
 */
import type * as OtelApi from '@opentelemetry/api';
import type { Attributes, Context, Span, Tracer } from '@opentelemetry/api';
import { InvalidOptionError } from '../errors/errors.js';
import { loadOptional } from './load-optional.js';
import { GEN_AI_OPERATION } from './otel-metrics.js';

export interface TracingOptions {
  /** A Tracer from the host's TracerProvider, e.g. `trace.getTracer('express-llm-proxy')`. */
  tracer: Tracer;
}

export interface RequestSpanAttributes {
  /** The API key (`chat`, `responses`, ...). */
  api: string;
  /** The client-facing model. */
  model: string;
  stream?: boolean;
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
  attempt(attributes: AttemptSpanAttributes): AttemptTrace;
  /** Ends the request's span with the status the client got and an error code if it failed. */
  end(status: number, error?: string): void;
}

export interface ProxyTracing {
  startRequest(attributes: RequestSpanAttributes, incoming?: IncomingTraceHeaders): RequestTrace;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(?:-|$)/;

export function createTracing(options: TracingOptions): ProxyTracing {
  const tracer = options?.tracer;
  if (typeof tracer?.startSpan !== 'function') {
    throw new InvalidOptionError('tracer', 'must be an OpenTelemetry Tracer (from @opentelemetry/api)');
  }
  const api = loadOptional<typeof OtelApi>('@opentelemetry/api', 'tracer');

  /** The request span's parent context. */
  function parentContext(incoming: IncomingTraceHeaders | undefined): Context {
    const active = api.context.active();
    if (api.trace.getSpan(active) !== undefined || incoming === undefined) return active;
    const match = TRACEPARENT.exec(first(incoming.traceparent) ?? '');
    if (!match || match[1] === 'ff') return active;
    const spanContext = { traceId: match[2], spanId: match[3], traceFlags: parseInt(match[4], 16) & 1, isRemote: true };
    if (!api.isSpanContextValid(spanContext)) return active;
    const state = first(incoming.tracestate);
    return api.trace.setSpanContext(active, state ? { ...spanContext, traceState: api.createTraceState(state) } : spanContext);
  }

  function finish(span: Span, status: number, error: string | undefined, errorFrom: number): void {
    if (status > 0) span.setAttribute('http.response.status_code', status);
    if (error !== undefined || status >= 400) span.setAttribute('error.type', error ?? String(status));
    if (error !== undefined || status >= errorFrom) span.setStatus({ code: api.SpanStatusCode.ERROR, message: error });
    span.end();
  }

  return {
    startRequest(attributes, incoming): RequestTrace {
      const operation = Object.hasOwn(GEN_AI_OPERATION, attributes.api) ? GEN_AI_OPERATION[attributes.api] : attributes.api;
      const common: Attributes = { 'gen_ai.operation.name': operation, 'gen_ai.request.model': attributes.model };
      const requestAttributes: Attributes = attributes.stream === undefined ? common : { ...common, 'gen_ai.request.stream': attributes.stream };
      const name = `${operation} ${attributes.model}`;
      const span = tracer.startSpan(name, { kind: api.SpanKind.SERVER, attributes: requestAttributes }, parentContext(incoming));
      const inside = api.trace.setSpan(api.context.active(), span);
      let ended = false;
      return {
        attempt({ provider }): AttemptTrace {
          span.setAttribute('gen_ai.provider.name', provider); // the request's provider is its last attempt's
          const child = tracer.startSpan(name, { kind: api.SpanKind.CLIENT, attributes: { ...requestAttributes, 'gen_ai.provider.name': provider } }, inside);
          const context = child.spanContext();
          const valid = api.isSpanContextValid(context);
          let childEnded = false;
          return {
            traceparent: valid ? `00-${context.traceId}-${context.spanId}-${(context.traceFlags & 0xff).toString(16).padStart(2, '0')}` : undefined,
            tracestate: valid ? context.traceState?.serialize() || undefined : undefined,
            end(status, error): void {
              if (childEnded) return;
              childEnded = true;
              finish(child, status, error, 400); // a client span fails on 4xx too
            },
          };
        },
        end(status, error): void {
          if (ended) return;
          ended = true;
          finish(span, status, error, 500); // a server span fails on 5xx: 4xx are the client's doing
        },
      };
    },
  };
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
