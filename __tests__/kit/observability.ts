/**
 * Reading back what the router recorded, as a host would: a prom-client Registry's text
 * exposition (`registry.metrics()`), the OpenTelemetry metrics SDK through a reader the test
 * collects from, and the tracing SDK's in-memory span exporter.
 */
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import type { DataPoint, Histogram, MetricData } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Registry } from 'prom-client';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Every sample of the text exposition format. */
export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = LINE.exec(line);
    if (!match) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, name, value] of (match[2] ?? '').matchAll(LABEL)) labels[name] = value.replace(/\\(.)/g, (_m, c: string) => (c === 'n' ? '\n' : c));
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}

/** The registry's samples, scraped as Prometheus would. */
export async function scrape(registry: Registry): Promise<Sample[]> {
  return parseExposition(await registry.metrics());
}

/** The value of the sample of `name` whose labels are exactly `labels`; undefined when there is none. */
export function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels);
  const hit = samples.find((s) => s.name === name && Object.keys(s.labels).length === wanted.length && wanted.every(([k, v]) => s.labels[k] === v));
  return hit?.value;
}

/** The samples of `name` (any labels). */
export const samplesOf = (samples: Sample[], name: string): Sample[] => samples.filter((s) => s.name === name);

class CollectingReader extends MetricReader {
  protected async onShutdown(): Promise<void> {}
  protected async onForceFlush(): Promise<void> {}
}

/** A MeterProvider whose metrics the test collects on demand. */
export function otelMeter() {
  const reader = new CollectingReader();
  const provider = new MeterProvider({ readers: [reader] });
  return {
    meter: provider.getMeter('express-llm-proxy-test'),
    async collect(): Promise<Map<string, MetricData>> {
      const { resourceMetrics, errors } = await reader.collect();
      if (errors.length > 0) throw errors[0];
      return new Map(resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).map((m) => [m.descriptor.name, m]));
    },
    close: () => provider.shutdown(),
  };
}

/** The histogram points of one instrument, as [attributes, sum, count]. */
export function histogramPoints(data: Map<string, MetricData>, name: string): { attributes: Record<string, unknown>; sum: number; count: number }[] {
  const metric = data.get(name);
  if (!metric) return [];
  return (metric.dataPoints as DataPoint<Histogram>[]).map((p) => ({ attributes: { ...p.attributes }, sum: p.value.sum ?? 0, count: p.value.count }));
}

/** A tracer whose finished spans the test reads. */
export function memoryTracer() {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  return { tracer: provider.getTracer('express-llm-proxy-test'), spans: () => exporter.getFinishedSpans(), close: () => provider.shutdown() };
}
