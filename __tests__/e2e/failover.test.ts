import { jest } from '@jest/globals';
import request from 'supertest';
import { createUndiciTransport } from '../../lib/index.js';
import type { UpstreamTransport } from '../../lib/index.js';
import { buildApp, provider } from '../kit/app.js';
import { closeAfterEach } from '../kit/stream-client.js';
import type { TestUpstream } from '../kit/upstream.js';
import { chunkEvent, okJson, refusedPort, sleep, startUpstream } from '../kit/upstream.js';

/**
 * Fakes the timers a retry waits on (setTimeout, setInterval). Sockets, setImmediate and the
 * clocks stay real, so requests flow as usual and only a wait needs the test to move the clock.
 */
let faked = false;
function fakeTimeouts(): void {
  faked = true;
  jest.useFakeTimers({ doNotFake: ['Date', 'hrtime', 'nextTick', 'performance', 'queueMicrotask', 'setImmediate', 'clearImmediate'] });
}
// Before the closers below: a test that failed while the proxy was waiting on a fake timer has
// that wait end now, so its request finishes and its app can close.
afterEach(() => {
  if (!faked) return;
  faked = false;
  jest.runOnlyPendingTimers();
  jest.useRealTimers();
});
const track = closeAfterEach();

/**
 * The real transport, watched: `sent` counts attempts as the proxy makes them, and `firstRead`
 * resolves once the proxy has read the first answer whole and acted on it (what it does in that
 * turn is done before the next setImmediate).
 */
function watchedTransport() {
  const real = createUndiciTransport();
  track(() => real.close());
  let onRead = (): void => {};
  const watched = {
    sent: 0,
    firstRead: new Promise<void>((resolve) => (onRead = resolve)),
    transport: (async (upstreamRequest) => {
      watched.sent++;
      const response = await real(upstreamRequest);
      response.body.once('end', () => setImmediate(onRead));
      return response;
    }) as UpstreamTransport,
  };
  return watched;
}

/** The kit's app, its router closed after the test (after its fake timers are gone). */
function trackedApp(...args: Parameters<typeof buildApp>): ReturnType<typeof buildApp> {
  const built = buildApp(...args);
  track(() => built.router.close());
  return built;
}

const chat = (extra: Record<string, unknown> = {}) => ({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }], ...extra });
const MODELS = { 'gpt-test': 'upstream-gpt' };

let good: TestUpstream;
let other: TestUpstream;
beforeAll(async () => {
  good = await startUpstream(okJson);
  other = await startUpstream(okJson);
});
afterAll(async () => {
  await good.close();
  await other.close();
});
beforeEach(() => {
  for (const upstream of [good, other]) {
    upstream.requests.length = 0;
    upstream.setHandler(okJson);
  }
});

describe('failover before the first byte', () => {
  it('routes 100 requests around a provider that refuses connections, trying it at most failureThreshold times', async () => {
    const dead = `http://127.0.0.1:${await refusedPort()}/v1`;
    const { app, router, entries } = buildApp({
      providers: [provider(dead, { id: 1, key: 'dead', models: MODELS }), provider(good.baseUrl, { id: 2, key: 'good', models: MODELS })],
      breaker: { failureThreshold: 3, cooldownMs: 60_000 },
    });
    for (let i = 0; i < 100; i++) {
      const res = await request(app).post('/llm/v1/chat/completions').send(chat());
      expect(res.status).toBe(200);
      expect(res.headers['x-llm-proxy-provider']).toBe('good');
    }
    expect(good.requests).toHaveLength(100);
    const deadTries = entries.flatMap((e) => (e.failed_attempts as { provider: string }[] | undefined) ?? []).filter((f) => f.provider === 'dead');
    expect(deadTries.length).toBe(3);
    const failedOver = entries.find((e) => e.attempts === 2);
    expect(failedOver).toMatchObject({ status: 200, provider: 'good', failed_attempts: [{ provider: 'dead', error_kind: 'connection' }] });
    await router.close();
  });

  it('moves a timed-out request to the other provider, streams included, and stops trying the slow one', async () => {
    other.setHandler(() => {}); // accepts, never answers
    good.setHandler((_req, res, seen) => {
      if (seen.json?.stream) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end(chunkEvent('upstream-gpt', 'hi') + 'data: [DONE]\n\n');
      } else okJson(_req, res, seen);
    });
    const { app, router } = buildApp({
      providers: [provider(other.baseUrl, { id: 1, key: 'slow', models: MODELS }), provider(good.baseUrl, { id: 2, key: 'good', models: MODELS })],
      timeouts: { requestMs: 150 },
      breaker: { failureThreshold: 2, cooldownMs: 60_000 },
    });
    for (let i = 0; i < 6; i++) {
      const res = await request(app).post('/llm/v1/chat/completions').send(chat({ stream: i % 2 === 1 }));
      expect(res.status).toBe(200);
      if (i % 2 === 1) expect(res.text).toContain('data: [DONE]');
    }
    expect(other.requests.length).toBe(2);
    expect(good.requests.length).toBe(6);
    await router.close();
  });
});

describe('failover on status', () => {
  it('passes a 429 from the only provider through at once by default', async () => {
    good.setHandler((_req, res) => {
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '1' });
      res.end('{"error":{"message":"rate limited","type":"requests","param":null,"code":"rate_limit_exceeded"}}');
    });
    const { app } = trackedApp({ providers: [provider(good.baseUrl, { models: MODELS })] });
    fakeTimeouts();
    // The clock never moves: an answer held back by any wait (retry-after, a backoff) could not arrive.
    const res = await request(app).post('/llm/v1/chat/completions').send(chat());
    expect(res.status).toBe(429);
    expect(res.headers['retry-after']).toBe('1');
    expect(res.headers['x-llm-proxy-attempts']).toBe('1');
    expect(good.requests).toHaveLength(1);
  });

  it('retries the same provider after its retry-after when sameProvider is on', async () => {
    good.setHandler((req, res, seen) => {
      if (good.requests.length === 1) {
        res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '1' });
        res.end('{"error":{"message":"rate limited"}}');
      } else okJson(req, res, seen);
    });
    const watched = watchedTransport();
    const { app, entries } = trackedApp({ providers: [provider(good.baseUrl, { models: MODELS })], retry: { sameProvider: true }, transport: watched.transport });
    fakeTimeouts();
    const answer = request(app).post('/llm/v1/chat/completions').send(chat()).then((res) => res);
    await watched.firstRead; // the 429 is in, and the proxy has decided what to do
    expect(watched.sent).toBe(1);
    await jest.advanceTimersByTimeAsync(999);
    expect(watched.sent).toBe(1); // still waiting just before retry-after has passed
    await jest.advanceTimersByTimeAsync(1);
    expect(watched.sent).toBe(2); // retried as it passed
    const res = await answer;
    expect(res.status).toBe(200);
    expect(res.headers['x-llm-proxy-attempts']).toBe('2');
    expect(good.requests).toHaveLength(2);
    expect(entries.at(-1)).toMatchObject({ attempts: 2, failed_attempts: [{ provider: 'mock', status: 429 }] });
  });

  it('passes the answer through when retry-after asks for more than maxDelayMs', async () => {
    good.setHandler((_req, res) => {
      res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '30' });
      res.end('{"error":{"message":"busy"}}');
    });
    const { app } = trackedApp({ providers: [provider(good.baseUrl, { models: MODELS })], retry: { sameProvider: true, maxDelayMs: 2000 } });
    fakeTimeouts();
    // The clock never moves: had the proxy waited (30 s, or maxDelayMs), the answer could not arrive.
    const res = await request(app).post('/llm/v1/chat/completions').send(chat());
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('30');
    expect(good.requests).toHaveLength(1);
  });

  it('answers with the last upstream status and body exactly when every provider fails', async () => {
    const first = '{"error":{"message":"first is down"}}';
    const last = '{"error":{"message":"second is down too","type":"server_error"}}';
    good.setHandler((_req, res) => {
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end(first);
    });
    other.setHandler((_req, res) => {
      res.writeHead(502, { 'content-type': 'application/json', 'x-from': 'other' });
      res.end(last);
    });
    const { app, router } = buildApp({
      providers: [provider(good.baseUrl, { id: 1, key: 'a', models: MODELS }), provider(other.baseUrl, { id: 2, key: 'b', models: MODELS })],
    });
    const res = await request(app).post('/llm/v1/chat/completions').send(chat());
    expect(res.status).toBe(502);
    expect(res.text).toBe(last);
    expect(res.headers['x-from']).toBe('other');
    expect(res.headers['x-llm-proxy-provider']).toBe('b');
    expect(res.headers['x-llm-proxy-attempts']).toBe('2');
    await router.close();
  });

  it('does not fail over when onStatus is empty', async () => {
    good.setHandler((_req, res) => {
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end('{"error":{"message":"busy"}}');
    });
    const { app, router } = buildApp({
      providers: [provider(good.baseUrl, { id: 1, key: 'a', models: MODELS }), provider(other.baseUrl, { id: 2, key: 'b', models: MODELS, weight: 0.001 })],
      retry: { onStatus: [] },
    });
    const res = await request(app).post('/llm/v1/chat/completions').send(chat());
    expect(res.status).toBe(503);
    expect(other.requests).toHaveLength(0);
    await router.close();
  });
});

describe('no retry once bytes reached the client', () => {
  it('ends a stream that fails after its first chunk with an error event and tries nobody else', async () => {
    good.setHandler((req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(chunkEvent('upstream-gpt', 'partial'));
      setTimeout(() => req.socket.destroy(), 50);
    });
    const { app, router } = buildApp({
      providers: [provider(good.baseUrl, { id: 1, key: 'a', models: MODELS, weight: 1000 }), provider(other.baseUrl, { id: 2, key: 'b', models: MODELS })],
    });
    const res = await request(app).post('/llm/v1/chat/completions').send(chat({ stream: true }));
    expect(res.status).toBe(200);
    expect(res.text).toContain('partial');
    expect(res.text).toContain('"code":"upstream_stream_error"');
    expect(other.requests).toHaveLength(0);
    await sleep(10);
    await router.close();
  });
});
