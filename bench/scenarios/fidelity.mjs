/**
 * Stream fidelity: the upstream holds its first event FIRST_MS, then sends the rest GAP_MS apart.
 * Measures client TTFB (first event), the gaps between events, and events that arrived coalesced.
 */
import http from 'node:http';
import { SMALL_BODY, STREAM_EVENTS } from '../constants.mjs';
import { openStream, postOptions } from './sse-client.mjs';

export const FIRST_MS = 200;
export const GAP_MS = 20;
const STREAMS = 20;
const STAGGER_MS = 3; // streams start apart, so their events do not all fall in one upstream timer tick
/** An event that arrives sooner than this after the previous one was held back and sent with it. */
const COALESCED_BELOW_MS = GAP_MS / 4;

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const quantile = (values, q) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(q * values.length))];

export async function configureFidelity(upstream) {
  await upstream.ask({ type: 'configure', firstMs: FIRST_MS, gapMs: GAP_MS });
}

/** One non-streaming request (the upstream answers it at once), its body drained. */
function postSmall(origin, agent) {
  return new Promise((resolve, reject) => {
    const req = http.request(postOptions(origin, agent, SMALL_BODY), (res) => res.resume().on('end', resolve).on('error', reject));
    req.on('error', reject);
    req.end(SMALL_BODY);
  });
}

/**
 * Runs STREAMS concurrent streams through `server` (the upstream must be configured). First
 * STREAMS quick requests open the proxy's upstream sockets: otherwise whether a proxy's pool is
 * still warm depends on how long ago its load run ended (undici closes idle sockets 3 s after the
 * last use when the server announces 5 s, Node's agent waits for the server to close them), and
 * opening 20 upstream connections, or a pool expiring meanwhile, added up to 3 ms to the first
 * event. Then a GC and a pause, so a collection left over from the previous load scenario does not
 * land in the streams.
 */
export async function runFidelity(server) {
  const warmAgent = new http.Agent({ keepAlive: false });
  await Promise.all(Array.from({ length: STREAMS }, () => postSmall(server.origin, warmAgent)));
  await server.stats(true);
  await new Promise((resolve) => setTimeout(resolve, 200));
  const { origin } = server;
  const agent = new http.Agent({ keepAlive: true, maxSockets: STREAMS });
  try {
    const streams = await Promise.all(
      Array.from({ length: STREAMS }, (_, i) => new Promise((resolve) => setTimeout(resolve, i * STAGGER_MS)).then(() => openStream(origin, agent))),
    );
    const ttfb = [];
    const headers = [];
    const gaps = [];
    let coalesced = 0;
    let sameRead = 0;
    let missing = 0;
    for (const { startedAt, headersAt, events } of streams) {
      missing += STREAM_EVENTS - events.length;
      headers.push(headersAt - startedAt);
      if (events.length === 0) continue;
      ttfb.push(events[0].at - startedAt);
      for (let i = 1; i < events.length; i += 1) {
        const gap = events[i].at - events[i - 1].at;
        gaps.push(gap);
        if (gap < COALESCED_BELOW_MS) coalesced += 1;
        if (events[i].read === events[i - 1].read) sameRead += 1;
      }
    }
    return {
      streams: STREAMS,
      ttfbMs: median(ttfb),
      ttfbMaxMs: Math.max(...ttfb),
      headersMs: median(headers),
      gapMedianMs: median(gaps),
      gapP95Ms: quantile(gaps, 0.95),
      gapMaxMs: Math.max(...gaps),
      coalesced,
      sameRead,
      missing,
    };
  } finally {
    agent.destroy();
  }
}
