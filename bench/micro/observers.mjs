/**
 * `npm run build && node bench/micro/observers.mjs`: CPU cost of the observers the proxy would run
 * on every answer (not a test; figures vary with the machine). Each case runs in rounds after a
 * warm-up; the median round is printed, with min and max.
 *
 * - a 20-event chat stream (~300 B events, one upstream chunk each, the last with usage) through
 *   usageReaders.chat.stream();
 * - a ~630 B chat JSON answer, and a 5 MB embeddings answer in 64 KiB chunks, through .json();
 * - one Prometheus requestFinished (a stream with usage: 6 series touched), and the same on the
 *   OpenTelemetry SDK for comparison.
 */
import { Registry } from 'prom-client';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { usageReaders } from '../../dist/usage/index.js';
import { createOtelMetrics, createPrometheusMetrics } from '../../dist/metrics/index.js';

const ROUNDS = 7;

/** Runs `fn` `iterations` times per round; returns ns per iteration (median, min, max). */
function measure(name, iterations, fn) {
  for (let i = 0; i < Math.max(200, iterations / 5); i++) fn(i);
  const perRound = [];
  for (let round = 0; round < ROUNDS; round++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) fn(i);
    perRound.push(Number(process.hrtime.bigint() - start) / iterations);
  }
  perRound.sort((a, b) => a - b);
  const result = { name, median: perRound[ROUNDS >> 1], min: perRound[0], max: perRound[ROUNDS - 1] };
  const show = (ns) => (ns >= 10_000 ? `${(ns / 1000).toFixed(1)} µs` : ns >= 1000 ? `${(ns / 1000).toFixed(2)} µs` : `${ns.toFixed(0)} ns`);
  console.log(`${name.padEnd(58)} ${show(result.median).padStart(10)}   (min ${show(result.min)}, max ${show(result.max)})`);
  return result;
}

// A chat stream as OpenAI sends it with stream_options.include_usage: "usage":null on each chunk.
const base = { id: 'chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG', object: 'chat.completion.chunk', created: 1741570283, model: 'gpt-4o-2024-08-06', system_fingerprint: 'fp_eb9dce56a8' };
const events = [];
for (let i = 0; i < 19; i++) {
  const delta = { content: ` word${i} of an ordinary answer, padded so that the event is about 300 bytes` };
  events.push(`data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: null }], usage: null })}\n\n`);
}
const usage = { prompt_tokens: 1117, completion_tokens: 46, total_tokens: 1163, prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 } };
events.push(`data: ${JSON.stringify({ ...base, choices: [], usage })}\n\n`);
const streamChunks = events.map((e) => Buffer.from(e));
const streamBytes = streamChunks.reduce((n, c) => n + c.length, 0);

const chatAnswer = Buffer.from(
  JSON.stringify({
    id: 'chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT',
    object: 'chat.completion',
    created: 1741569952,
    model: 'gpt-4.1-2025-04-14',
    choices: [{ index: 0, message: { role: 'assistant', content: 'Hello! How can I assist you today? A reverse proxy sits in front of servers.', refusal: null, annotations: [] }, logprobs: null, finish_reason: 'stop' }],
    usage: { prompt_tokens: 19, completion_tokens: 10, total_tokens: 29, prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 } },
    service_tier: 'default',
    system_fingerprint: 'fp_b705f0c291',
  }),
);

const vector = Array.from({ length: 1536 }, (_, i) => Number(((i % 97) / 97 - 0.5).toFixed(9)));
const one = JSON.stringify({ object: 'embedding', index: 0, embedding: vector }).length;
const count = Math.round(5_000_000 / one);
const bigAnswer = Buffer.from(JSON.stringify({ object: 'list', data: Array.from({ length: count }, (_, index) => ({ object: 'embedding', index, embedding: vector })), model: 'text-embedding-3-small', usage: { prompt_tokens: 8 * count, total_tokens: 8 * count } }));
const bigChunks = [];
for (let at = 0; at < bigAnswer.length; at += 65_536) bigChunks.push(bigAnswer.subarray(at, at + 65_536));

console.log(`node ${process.version}; stream ${streamChunks.length} events / ${streamBytes} B; chat answer ${chatAnswer.length} B; big answer ${bigAnswer.length} B in ${bigChunks.length} chunks\n`);

let sink = 0;
const check = (result, expected) => {
  if (result?.total_tokens !== expected) throw new Error(`wrong usage: ${JSON.stringify(result)}`);
  sink += result.total_tokens;
};

measure('chat stream, 20 events: scanner + stream usage tap', 20_000, () => {
  const tap = usageReaders.chat.stream();
  for (const chunk of streamChunks) tap.push(chunk);
  check(tap.result(), 1163);
});
measure('  same stream with no usage reading (loop over chunks only)', 20_000, () => {
  for (const chunk of streamChunks) sink += chunk.length;
});
measure('630 B chat JSON answer: JSON usage tap', 200_000, () => {
  const tap = usageReaders.chat.json();
  tap.push(chatAnswer);
  check(tap.result(), 29);
});
measure('  for scale: JSON.parse of the same whole answer', 200_000, () => {
  sink += JSON.parse(chatAnswer.toString()).usage.total_tokens;
});
measure(`5 MB embeddings answer in 64 KiB chunks: JSON usage tap`, 200, () => {
  const tap = usageReaders.embeddings.json();
  for (const chunk of bigChunks) tap.push(chunk);
  check(tap.result(), 8 * count);
});
measure('  for scale: JSON.parse of the same whole answer', 10, () => {
  sink += JSON.parse(bigAnswer.toString()).usage.total_tokens;
});

const registry = new Registry();
const prometheus = createPrometheusMetrics({ registry });
const models = ['gpt-4o', 'gpt-4o-mini', 'claude-sonnet-4-5', 'o3'];
const finished = models.map((model) => ({ api: 'chat', provider: 'openai', model, status: 200, stream: true, durationS: 2.5, ttftS: 0.4, overheadS: 0.0003, usage: { input_tokens: 19, output_tokens: 10, total_tokens: 29 } }));
measure('Prometheus requestFinished (stream with usage)', 500_000, (i) => prometheus.requestFinished(finished[i & 3]));
const jsonFinished = finished.map((e) => ({ ...e, stream: false, ttftS: undefined, usage: undefined }));
measure('Prometheus requestFinished (JSON answer, no usage)', 500_000, (i) => prometheus.requestFinished(jsonFinished[i & 3]));

class Reader extends MetricReader {
  async onShutdown() {}
  async onForceFlush() {}
}
const meterProvider = new MeterProvider({ readers: [new Reader()] });
const otel = createOtelMetrics({ meter: meterProvider.getMeter('bench') });
measure('OpenTelemetry SDK requestFinished (stream with usage)', 200_000, (i) => otel.requestFinished(finished[i & 3]));

if (sink === 0) console.log('');
