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
  // Latency added by each proxy: its percentile minus the direct one of the same round.
  const direct = runs.latency?.direct;
  if (direct) {
    for (const [server, rounds] of Object.entries(runs.latency)) {
      if (server === 'direct') continue;
      for (const p of ['p50Ms', 'p90Ms', 'p99Ms']) {
        summary.latency[server][`added${p}`] = spread(rounds.map((round, i) => round[p] - direct[i]?.[p]));
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

function latencyTable(metrics, alloc, labels, meta) {
  if (!metrics) return '';
  const lines = [
    `### Added latency at a fixed ${meta.rate} requests/s (open loop, ~630 B completion, ${meta.latencyDuration} s per run, first second left out), and allocation per request`,
    '',
    '| proxy | p50 ms | p90 ms | p99 ms | p50 added | p90 added | p99 added | heap bytes allocated / request |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const [server, m] of Object.entries(metrics)) {
    const bytes = alloc?.[server]?.allocBytesPerRequest?.median;
    lines.push(
      `| ${labels[server] ?? server} | ${cell(m.p50Ms, 2)} | ${cell(m.p90Ms, 2)} | ${cell(m.p99Ms, 2)} | ${cell(m.addedp50Ms, 2)} | ${cell(m.addedp90Ms, 2)} | ${cell(m.addedp99Ms, 2)} | ${bytes === undefined ? '–' : Math.round(bytes)} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Every configuration on one line: CPU against the floor in each load, added latency, allocation. */
function summaryTable(summary, labels) {
  const servers = Object.keys(summary.nonstream ?? summary.stream ?? summary.latency ?? {}).filter((server) => server !== 'direct');
  if (servers.length === 0) return '';
  const columns = [
    ['non-streaming', 'nonstream'],
    ...STREAM_TABLES.map(([scenario, api]) => [`stream (${api})`, scenario]),
  ].filter(([, scenario]) => summary[scenario]);
  const lines = [
    '### Every configuration (CPU per request × the floor, ratio of medians [median per-round ratio])',
    '',
    `| proxy | ${columns.map(([title]) => title).join(' | ')} | p50 / p99 added ms | heap bytes / request |`,
    `|---|${columns.map(() => '---:').join('|')}|---:|---:|`,
  ];
  for (const server of servers) {
    const cpu = columns.map(([, scenario]) => {
      const m = summary[scenario]?.[server];
      return ratio(m?.cpuPerRequest, summary[scenario]?.floor?.cpuPerRequest, m?.cpuPerRequestPerfloor);
    });
    const l = summary.latency?.[server];
    const added = l?.addedp50Ms ? `${digits(l.addedp50Ms.median, 2)} / ${digits(l.addedp99Ms.median, 2)}` : '–';
    const bytes = summary.alloc?.[server]?.allocBytesPerRequest?.median;
    lines.push(`| ${labels[server] ?? server} | ${cpu.join(' | ')} | ${added} | ${bytes === undefined ? '–' : Math.round(bytes)} |`);
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

/**
 * The targets, judged on the ratio of medians (the median of per-round ratios beside it): issue
 * #20's (the defaults, streams, the latency tail) and the budgets the feature issues gave.
 */
export function checkTargets(summary) {
  const checks = [];
  const add = (name, ok, detail) => checks.push({ name, ok, detail });
  const med = (scenario, server, metric) => summary[scenario]?.[server]?.[metric]?.median;
  const paired = (scenario, server, base) => {
    const p = summary[scenario]?.[server]?.[`cpuPerRequestPer${base}`];
    return p && p.n > 1 ? ` [per round ${p.median.toFixed(2)}×, ${p.min.toFixed(2)}–${p.max.toFixed(2)}]` : '';
  };
  const cpuRatio = (scenario, server, base, bound, name) => {
    const a = med(scenario, server, 'cpuPerRequest');
    const b = med(scenario, base, 'cpuPerRequest');
    if (a === undefined || b === undefined) return;
    const r = a / b;
    add(name, r <= bound, `${r.toFixed(2)}×${base === 'floor' ? paired(scenario, server, base) : ''}`);
  };
  cpuRatio('nonstream', 'ours-defaults', 'floor', 1.0, 'defaults (request log on): non-streaming CPU/request ≤ 1.00× floor');
  cpuRatio('stream', 'ours-defaults', 'floor', 1.05, 'defaults (request log on): streaming CPU/stream ≤ 1.05× floor');
  cpuRatio('stream', 'ours', 'floor', 1.0, 'logging off: streaming CPU/stream ≤ 1.00× floor');
  cpuRatio('nonstream', 'ours', 'floor', 1.0, 'logging off: non-streaming CPU/request ≤ 1.00× floor');
  for (const [scenario, api] of STREAM_TABLES.slice(1)) cpuRatio(scenario, 'ours', 'floor', 1.15, `streaming (${api}) CPU/stream ≤ 1.15× floor`);
  cpuRatio('nonstream', 'ours-metrics', 'ours', 1.1, 'Prometheus metrics and usage on: non-streaming CPU ≤ 1.10× off');
  cpuRatio('stream', 'ours-metrics', 'ours', 1.1, 'Prometheus metrics and usage on: streaming CPU ≤ 1.10× off');
  cpuRatio('nonstream', 'ours-redis', 'ours', 1.05, 'Redis store, no limits: non-streaming CPU ≤ 1.05× the memory store');
  const lat = summary.latency;
  if (lat?.ours?.addedp50Ms && lat['node-limit']?.addedp50Ms) {
    const d = lat.ours.addedp50Ms.median - lat['node-limit'].addedp50Ms.median;
    add('latency: p50 added within 0.15 ms of the raw Node pipe', d <= 0.15, `${d >= 0 ? '+' : ''}${d.toFixed(2)} ms (${lat.ours.addedp50Ms.median.toFixed(2)} vs ${lat['node-limit'].addedp50Ms.median.toFixed(2)})`);
  }
  if (lat?.ours?.addedp99Ms && lat.floor?.addedp99Ms) {
    const ours = lat.ours.addedp99Ms.median;
    const floor = lat.floor.addedp99Ms.median;
    add('latency: p99 added no worse than the floor', ours <= floor, `${ours.toFixed(2)} vs ${floor.toFixed(2)} ms`);
  }
  const fid = summary.fidelity;
  if (fid?.ours) {
    const gap = fid.ours.gapMedianMs.median;
    add(`fidelity: median inter-chunk gap within 1 ms of ${GAP_MS} ms`, Math.abs(gap - GAP_MS) <= 1, `${gap.toFixed(2)} ms`);
    add('fidelity: no coalesced chunks', fid.ours.coalescedTotal === 0, `${fid.ours.coalescedTotal} coalesced`);
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
    summaryTable(summary, labels),
    loadTable(`Non-streaming, ~630 B completion, c=${meta.connections}, ${meta.durations.nonstream} s per run`, summary.nonstream, labels),
    ...STREAM_TABLES.map(([scenario, api]) => loadTable(`Streaming (${api}), 20 events per response, c=${meta.connections}, ${meta.durations.stream} s per run`, summary[scenario], labels)),
    loadTable(`100 KB request body, non-streaming, c=${meta.connections}, ${meta.durations.body} s per run`, summary.body, labels),
    fidelityTable(summary.fidelity, labels),
    openStreamsTable(summary.open, labels, meta.openStreams),
    latencyTable(summary.latency, summary.alloc, labels, meta),
    checks.length ? `### Targets\n\n${checks.map((c) => `- ${c.ok ? 'met' : '**not met**'}: ${c.name} — ${c.detail}`).join('\n')}\n` : '',
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
