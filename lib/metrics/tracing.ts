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
import type { AttemptTrace, IncomingTraceHeaders, ProxyTracing, RequestTrace } from './trace-types.js';

export type { AttemptSpanAttributes, AttemptTrace, IncomingTraceHeaders, ProxyTracing, RequestSpanAttributes, RequestTrace, SpanUsage } from './trace-types.js';

export interface TracingOptions {
  /** A Tracer from the host's TracerProvider, e.g. `trace.getTracer('express-llm-proxy')`. */
  tracer: Tracer;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(?:-|$)/;

/** `option` names the option in errors (the router passes `tracing.tracer`). */
export function createTracing(options: TracingOptions, option = 'tracer'): ProxyTracing {
  const tracer = options?.tracer;
  if (typeof tracer?.startSpan !== 'function') {
    throw new InvalidOptionError(option, 'must be an OpenTelemetry Tracer (from @opentelemetry/api)');
  }
  const api = loadOptional<typeof OtelApi>('@opentelemetry/api', option);

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
      // The attributes every span of the request carries; attempts copy them as they stand.
      const requestAttributes: Attributes = { 'gen_ai.operation.name': operation };
      if (attributes.model !== undefined) requestAttributes['gen_ai.request.model'] = attributes.model;
      if (attributes.stream !== undefined) requestAttributes['gen_ai.request.stream'] = attributes.stream;
      // The conventions' span name is `{operation} {model}`, or the operation alone while the model is unknown.
      let name = attributes.model === undefined ? operation : `${operation} ${attributes.model}`;
      const span = tracer.startSpan(name, { kind: api.SpanKind.SERVER, attributes: requestAttributes, startTime: attributes.startTime }, parentContext(incoming));
      const inside = api.trace.setSpan(api.context.active(), span);
      let ended = false;
      return {
        setModel(model, stream): void {
          name = `${operation} ${model}`;
          requestAttributes['gen_ai.request.model'] = model;
          if (stream !== undefined) requestAttributes['gen_ai.request.stream'] = stream;
          span.updateName(name);
          span.setAttributes(requestAttributes);
        },
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
        end(status, error, usage): void {
          if (ended) return;
          ended = true;
          if (usage) span.setAttributes({ 'gen_ai.usage.input_tokens': usage.input_tokens, 'gen_ai.usage.output_tokens': usage.output_tokens });
          finish(span, status, error, 500); // a server span fails on 5xx: 4xx are the client's doing
        },
      };
    },
  };
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
