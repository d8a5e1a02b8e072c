/** A raw `node:http` streaming client: records when the headers and each SSE event arrive. */
import http from 'node:http';
import { PATH, STREAM_BODY } from '../constants.mjs';

const BLANK_LINE = Buffer.from('\n\n');

/** `http.request` options for a JSON POST of `body` to the bench's chat completions path. */
export function postOptions(origin, agent, body) {
  const url = new URL(PATH, origin);
  return {
    host: url.hostname,
    port: url.port,
    path: url.pathname,
    method: 'POST',
    agent,
    headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
  };
}

/**
 * Opens one stream. `onFirstEvent` fires once the first event arrived. Resolves with
 * `{ startedAt, headersAt, events: [{ at, read }] }` (`read`: which socket read carried it) when the response ends.
 */
export function openStream(origin, agent, { onFirstEvent, timeoutMs = 60_000 } = {}) {
  return new Promise((resolve, reject) => {
    const events = [];
    let headersAt;
    let reads = 0;
    let pending = 0; // bytes of an event not yet terminated
    const req = http.request(
      postOptions(origin, agent, STREAM_BODY),
      (res) => {
        headersAt = performance.now();
        if (res.statusCode !== 200) {
          res.resume();
          reject(new Error(`status ${res.statusCode}`));
          return;
        }
        res.on('data', (chunk) => {
          const at = performance.now();
          reads += 1;
          let from = 0;
          for (let end = chunk.indexOf(BLANK_LINE, from); end !== -1; end = chunk.indexOf(BLANK_LINE, from)) {
            events.push({ at, read: reads });
            if (events.length === 1) onFirstEvent?.();
            from = end + 2;
          }
          pending = chunk.length - from; // this bench's events never split a "\n\n" across reads
        });
        res.on('end', () => {
          clearTimeout(timer);
          resolve({ startedAt, headersAt, events, partial: pending });
        });
        res.on('error', reject);
      },
    );
    const timer = setTimeout(() => req.destroy(new Error(`stream not done in ${timeoutMs} ms`)), timeoutMs);
    req.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    const startedAt = performance.now();
    req.end(STREAM_BODY);
  });
}
