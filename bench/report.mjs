/** Medians with min–max, ratios against the floor and http-proxy-middleware, the target check, and the files. */
import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { GAP_MS } from './scenarios/fidelity.mjs';

const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));

export function spread(values) {
  const sorted = values.filter((value) => typeof value === 'number' && Number.isFinite(value)).sort((a, b) => a - b);
  if (sorted.length === 0) return undefined;
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted.at(-1), n: sorted.length };
}

/** `{ scenario: { server: [round results] } }` → `{ scenario: { server: { metric: spread } } }`. */
export function summarize(runs) {
  const summary = {};
  for (const [scenario, servers] of Object.entries(runs)) {
    summary[scenario] = {};
    for (const [server, rounds] of Object.entries(servers)) {
      const metrics = {};
      for (const key of Object.keys(rounds[0] ?? {})) {
        if (typeof rounds[0][key] === 'number') metrics[key] = spread(rounds.map((round) => round[key]));
      }
      // Counts are summed over rounds: one coalesced chunk anywhere is one too many.
      for (const key of ['coalesced', 'sameRead', 'missing', 'failed', 'non2xx', 'errors', 'timeouts']) {
        if (key in (rounds[0] ?? {})) metrics[`${key}Total`] = rounds.reduce((sum, round) => sum + round[key], 0);
      }
      summary[scenario][server] = metrics;
    }
    // Each round runs every server within a minute or two, so a slow spell of a shared host hits
    // the servers of one round alike: the ratio within a round is steadier than the ratio of medians.
    for (const [server, rounds] of Object.entries(servers)) {
      for (const base of ['floor', 'hpm']) {
        const baseRounds = servers[base];
        if (!baseRounds || baseRounds.length !== rounds.length) continue;
        for (const key of ['cpuPerRequest', 'rps']) {
          if (typeof rounds[0]?.[key] !== 'number') continue;
          summary[scenario][server][`${key}Per${base}`] = spread(rounds.map((round, i) => round[key] / baseRounds[i][key]));
        }
      }
    }
  }
  return summary;
}

/** The stream scenario's tables, by result key: chat, Anthropic Messages, OpenAI Responses. */
const STREAM_TABLES = [
  ['stream', 'chat'],
  ['stream-messages', 'messages'],
  ['stream-responses', 'responses'],
];

const digits = (value, places) => (value === undefined ? '–' : value.toFixed(places));

function cell(s, places = 0) {
  if (!s) return '–';
  return s.n > 1 ? `${digits(s.median, places)} (${digits(s.min, places)}–${digits(s.max, places)})` : digits(s.median, places);
}

/** Ratio of the medians, then the median of the per-round ratios in brackets (when there are rounds). */
function ratio(s, base, paired) {
  if (!(s && base && base.median)) return '–';
  const ofMedians = (s.median / base.median).toFixed(2);
  return paired && paired.n > 1 ? `${ofMedians} [${paired.median.toFixed(2)}]` : ofMedians;
}

function loadTable(title, metrics, labels) {
  if (!metrics) return '';
  const floor = metrics.floor;
  const hpm = metrics.hpm;
  const lines = [
    `### ${title}`,
    '',
    '| proxy | CPU µs / request | × floor | × hpm | req/s | × floor | × hpm | p99 latency ms | errors |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const [server, m] of Object.entries(metrics)) {
    const failures = (m.non2xxTotal ?? 0) + (m.errorsTotal ?? 0) + (m.timeoutsTotal ?? 0);
    lines.push(
      `| ${labels[server] ?? server} | ${cell(m.cpuPerRequest)} | ${ratio(m.cpuPerRequest, floor?.cpuPerRequest, m.cpuPerRequestPerfloor)} | ${ratio(m.cpuPerRequest, hpm?.cpuPerRequest, m.cpuPerRequestPerhpm)} | ${cell(m.rps)} | ${ratio(m.rps, floor?.rps, m.rpsPerfloor)} | ${ratio(m.rps, hpm?.rps, m.rpsPerhpm)} | ${cell(m.latencyP99)} | ${failures} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}

function fidelityTable(metrics, labels) {
  if (!metrics) return '';
  const direct = metrics.direct;
  const lines = [
    `### Stream fidelity (upstream: first event after 200 ms, then ${GAP_MS} ms apart; 20 concurrent streams per round)`,
    '',
    '| proxy | first event (TTFB) ms | added vs direct ms | headers ms | median gap ms | p95 gap ms | max gap ms | coalesced events | events sharing a read |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const [server, m] of Object.entries(metrics)) {
    const diff = direct && server !== 'direct' ? m.ttfbMs.median - direct.ttfbMs.median : undefined;
    const added = diff === undefined ? '' : `${diff >= 0 ? '+' : '−'}${Math.abs(diff).toFixed(1)}`;
    lines.push(
      `| ${labels[server] ?? server} | ${cell(m.ttfbMs, 1)} | ${added} | ${cell(m.headersMs, 1)} | ${cell(m.gapMedianMs, 2)} | ${cell(m.gapP95Ms, 1)} | ${cell(m.gapMaxMs, 1)} | ${m.coalescedTotal} | ${m.sameReadTotal} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}

function openStreamsTable(metrics, labels, count) {
  if (!metrics) return '';
  const lines = [
    `### ${count} concurrent open streams (proxy RSS growth while all are open, after a GC, ÷ ${count})`,
    '',
    '| proxy | RSS KB / stream | JS heap + external KB / stream | idle RSS MB | failed streams |',
    '|---|---:|---:|---:|---:|',
  ];
  for (const [server, m] of Object.entries(metrics)) {
    lines.push(`| ${labels[server] ?? server} | ${cell(m.rssPerStreamKb, 1)} | ${cell(m.heapPerStreamKb, 1)} | ${cell(m.rssIdleMb, 0)} | ${m.failedTotal} |`);
  }
  return `${lines.join('\n')}\n`;
}

/** The issue's targets, judged on the ratio of medians; the median of per-round ratios is shown beside it. */
export function checkTargets(summary) {
  const checks = [];
  const add = (name, ok, detail) => checks.push({ name, ok, detail });
  const med = (scenario, server, metric) => summary[scenario]?.[server]?.[metric]?.median;
  const perRound = (scenario, metric, base) => {
    const paired = summary[scenario]?.ours?.[`${metric}Per${base}`];
    return paired && paired.n > 1 ? ` (per round ${paired.median.toFixed(2)}×, ${paired.min.toFixed(2)}–${paired.max.toFixed(2)})` : '';
  };
  const ns = (server, metric) => med('nonstream', server, metric);
  if (summary.nonstream?.ours && summary.nonstream.floor) {
    const r = ns('ours', 'cpuPerRequest') / ns('floor', 'cpuPerRequest');
    add('non-streaming CPU/request ≤ 1.15× floor', r <= 1.15, `${r.toFixed(2)}×${perRound('nonstream', 'cpuPerRequest', 'floor')}`);
    if (summary.nonstream.hpm) {
      add('non-streaming CPU/request below http-proxy-middleware', ns('ours', 'cpuPerRequest') < ns('hpm', 'cpuPerRequest'), `${ns('ours', 'cpuPerRequest').toFixed(0)} vs ${ns('hpm', 'cpuPerRequest').toFixed(0)} µs${perRound('nonstream', 'cpuPerRequest', 'hpm')}`);
    }
    const t = ns('ours', 'rps') / ns('floor', 'rps');
    add('non-streaming throughput ≥ 0.90× floor', t >= 0.9, `${t.toFixed(2)}×${perRound('nonstream', 'rps', 'floor')}`);
  }
  if (summary.stream?.ours && summary.stream.floor) {
    const t = med('stream', 'ours', 'rps') / med('stream', 'floor', 'rps');
    add('streaming throughput ≥ 0.90× floor', t >= 0.9, `${t.toFixed(2)}×${perRound('stream', 'rps', 'floor')}`);
  }
  for (const [scenario, api] of STREAM_TABLES) {
    if (!(summary[scenario]?.ours && summary[scenario].floor)) continue;
    const r = med(scenario, 'ours', 'cpuPerRequest') / med(scenario, 'floor', 'cpuPerRequest');
    add(`streaming (${api}) CPU/stream ≤ 1.15× floor`, r <= 1.15, `${r.toFixed(2)}×${perRound(scenario, 'cpuPerRequest', 'floor')}`);
  }
  const fid = summary.fidelity;
  if (fid?.ours) {
    if (fid.floor) {
      const d = fid.ours.ttfbMs.median - fid.floor.ttfbMs.median;
      add('TTFB within 2 ms of the floor', d <= 2, `${d >= 0 ? '+' : ''}${d.toFixed(1)} ms`);
    }
    const gap = fid.ours.gapMedianMs.median;
    add(`median inter-chunk gap within 1 ms of ${GAP_MS} ms`, Math.abs(gap - GAP_MS) <= 1, `${gap.toFixed(2)} ms`);
    add('no coalesced chunks', fid.ours.coalescedTotal === 0, `${fid.ours.coalescedTotal} coalesced`);
  }
  if (summary.open?.ours) {
    const kb = summary.open.ours.rssPerStreamKb.median;
    add('≤ 64 KB RSS per open stream', kb <= 64, `${kb.toFixed(1)} KB`);
  }
  return checks;
}

export function renderMarkdown(summary, labels, meta) {
  const checks = checkTargets(summary);
  const parts = [
    loadTable(`Non-streaming, ~630 B completion, c=${meta.connections}, ${meta.durations.nonstream} s per run`, summary.nonstream, labels),
    ...STREAM_TABLES.map(([scenario, api]) => loadTable(`Streaming (${api}), 20 events per response, c=${meta.connections}, ${meta.durations.stream} s per run`, summary[scenario], labels)),
    loadTable(`100 KB request body, non-streaming, c=${meta.connections}, ${meta.durations.body} s per run`, summary.body, labels),
    fidelityTable(summary.fidelity, labels),
    openStreamsTable(summary.open, labels, meta.openStreams),
    checks.length ? `### Targets (express-llm-proxy, default transport, \`logRequests: false\`)\n\n${checks.map((c) => `- ${c.ok ? 'met' : '**not met**'}: ${c.name} — ${c.detail}`).join('\n')}\n` : '',
  ];
  return parts.filter(Boolean).join('\n');
}

export async function writeResults(payload, markdown) {
  await mkdir(RESULTS_DIR, { recursive: true });
  const stamp = payload.meta.startedAt.replace(/[:.]/g, '-');
  const json = `${RESULTS_DIR}bench-${stamp}.json`;
  await writeFile(json, `${JSON.stringify(payload, null, 2)}\n`);
  await writeFile(`${RESULTS_DIR}latest.md`, markdown);
  return json;
}
