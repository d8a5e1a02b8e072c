import type http from 'node:http';
import { jest } from '@jest/globals';
import { HealthCheckService } from '../../../lib/health/index.js';
import type { HealthCheckServiceOptions } from '../../../lib/health/index.js';
import type { ProviderConfig, UpstreamTransport } from '../../../lib/index.js';
import { createUndiciTransport } from '../../../lib/index.js';
import { provider, SECRET } from '../../kit/app.js';
import type { RecordedRequest, TestUpstream } from '../../kit/upstream.js';
import { okJson, refusedPort, startUpstream } from '../../kit/upstream.js';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, request: RecordedRequest) => void | Promise<void>;

/** A promise the test opens by hand. */
function gate() {
  let open = (): void => {};
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

/**
 * An upstream that holds every probe until the test lets it answer (oldest first), so tests of
 * the concurrency limit depend on no timing: `arrivals(n)` resolves once `n` probes have come in.
 */
function holdProbes(answerWith: (request: RecordedRequest) => Handler = () => okJson) {
  const held: (() => void)[] = [];
  const state = { arrived: 0, inFlight: 0, peak: 0, holding: true };
  let onArrival = (): void => {};
  upstream.setHandler(async (req, res, request) => {
    state.inFlight++;
    state.arrived++;
    state.peak = Math.max(state.peak, state.inFlight);
    const answered = new Promise<void>((resolve) => (state.holding ? held.push(resolve) : resolve()));
    onArrival();
    await answered;
    state.inFlight--;
    await answerWith(request)(req, res, request);
  });
  return {
    get inFlight() {
      return state.inFlight;
    },
    get peak() {
      return state.peak;
    },
    arrivals: (n: number) =>
      new Promise<void>((resolve) => {
        onArrival = () => {
          if (state.arrived >= n) resolve();
        };
        onArrival();
      }),
    answerOne: () => held.shift()!(),
    answerAll: () => {
      for (const answer of held.splice(0)) answer();
    },
    /** Answers whatever is held and everything after at once (so a failed test can close its sockets). */
    release: () => {
      state.holding = false;
      for (const answer of held.splice(0)) answer();
    },
  };
}

/**
 * The real transport, counting probes as the service starts them: a probe started beyond the
 * limit is counted at once, long before it could reach the upstream.
 */
function countingTransport() {
  const real = createUndiciTransport();
  const counted = {
    started: 0,
    transport: ((request) => {
      counted.started++;
      return real(request);
    }) as UpstreamTransport,
    close: () => real.close(),
  };
  return counted;
}

const json = (res: http.ServerResponse, status: number, body: unknown) => {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
};

/** Answers per upstream model name; unknown names get a plain 200. */
const byModel =
  (handlers: Record<string, Handler>): Handler =>
  (req, res, request) =>
    (handlers[String(request.json?.model)] ?? okJson)(req, res, request);

let upstream: TestUpstream;
const services: HealthCheckService[] = [];
const service = (providers: ProviderConfig[], options: Omit<HealthCheckServiceOptions, 'providers'> = {}) => {
  const s = new HealthCheckService({ providers, ...options });
  services.push(s);
  return s;
};

beforeAll(async () => {
  upstream = await startUpstream(okJson);
});
afterEach(async () => {
  await Promise.all(services.splice(0).map((s) => s.close()));
});
afterAll(() => upstream.close());
beforeEach(() => {
  upstream.requests.length = 0;
  upstream.setHandler(okJson);
});

const four = { ok: 'up-ok', limited: 'up-429', broken: 'up-500', silent: 'up-silent' };

describe('HealthCheckService.checkProvider', () => {
  it('reports 200 / 429 / 500 with a JSON error / never as specified, and the provider as degraded', async () => {
    upstream.setHandler(
      byModel({
        'up-429': (_req, res) => {
          res.writeHead(429);
          res.end();
        },
        'up-500': (_req, res) => json(res, 500, { error: { message: 'The server had an error', type: 'server_error' } }),
        'up-silent': () => {},
      }),
    );
    const report = await service([provider(upstream.baseUrl, { id: 7, models: four })]).checkProvider(7, { timeoutMs: 1000, maxConcurrent: 4 });
    expect(report.provider_id).toBe(7);
    expect(report.provider_key).toBe('mock');
    expect(report.status).toBe('degraded');
    expect(report.models.map((m) => m.model)).toEqual(['ok', 'limited', 'broken', 'silent']);
    const [ok, limited, broken, silent] = report.models;
    expect(ok).toEqual({ model: 'ok', upstream_model: 'up-ok', status: 'healthy', response_time_ms: expect.any(Number), http_status: 200 });
    expect(limited).toMatchObject({ status: 'unhealthy', http_status: 429, error: 'HTTP 429' });
    expect(broken).toMatchObject({ status: 'unhealthy', http_status: 500, error: 'HTTP 500 - The server had an error' });
    expect(silent).toMatchObject({ status: 'unhealthy', error: 'Timeout after 1s' });
    expect(silent.http_status).toBeUndefined();
    for (const model of report.models) expect(Number.isInteger(model.response_time_ms)).toBe(true);
    expect(report.summary).toEqual({ total_models: 4, healthy_models: 1, unhealthy_models: 3 });
    const times = report.models.map((m) => m.response_time_ms as number);
    expect(report.avg_response_time_ms).toBe(Math.round(times.reduce((a, b) => a + b, 0) / 4));
    expect(new Date(report.checked_at).toISOString()).toBe(report.checked_at);
  });

  it('sends the chat probe body with the provider auth and extra headers', async () => {
    const s = service([provider(upstream.baseUrl, { headers: { 'X-Org': 'acme' }, models: { a: 'up-a' } })]);
    const report = await s.checkProvider('1');
    expect(report.status).toBe('healthy');
    expect(upstream.requests).toHaveLength(1);
    const seen = upstream.requests[0];
    expect(seen.method).toBe('POST');
    expect(seen.url).toBe('/v1/chat/completions');
    expect(seen.json).toEqual({ model: 'up-a', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 5, stream: false });
    expect(seen.headers.authorization).toBe(`Bearer ${SECRET}`);
    expect(seen.headers['x-org']).toBe('acme');
    expect(seen.headers['content-type']).toBe('application/json');
  });

  it('probes an embedding model at /embeddings and a completion model at /completions', async () => {
    const models = {
      embed: { model: 'up-embed', healthCheck: { mode: 'embedding' as const } },
      legacy: { model: 'up-legacy', healthCheck: { mode: 'completion' as const } },
    };
    const report = await service([provider(upstream.baseUrl, { models })]).checkProvider(1);
    expect(report.status).toBe('healthy');
    const byUrl = Object.fromEntries(upstream.requests.map((r) => [r.url, r.json]));
    expect(byUrl['/v1/embeddings']).toEqual({ model: 'up-embed', input: 'Hi' });
    expect(byUrl['/v1/completions']).toMatchObject({ model: 'up-legacy', prompt: 'Hi' });
  });

  it('uses a model body, else the provider body, and always sets model itself', async () => {
    const models = {
      reasoner: { model: 'up-o1', healthCheck: { body: { model: 'ignored', messages: [{ role: 'user', content: 'x' }], max_completion_tokens: 16 } } },
      plain: 'up-plain',
    };
    upstream.setHandler(
      byModel({
        // A reasoning model that rejects max_tokens, as OpenAI's o-series does.
        'up-o1': (req, res, request) => (request.json?.max_tokens === undefined ? okJson(req, res, request) : json(res, 400, { error: { message: 'max_tokens is not supported' } })),
      }),
    );
    const s = service([provider(upstream.baseUrl, { models, healthCheck: { body: { messages: [{ role: 'user', content: 'ping' }], max_tokens: 1 } } })]);
    const report = await s.checkProvider(1);
    expect(report.status).toBe('healthy');
    const bodies = Object.fromEntries(upstream.requests.map((r) => [String(r.json?.model), r.json]));
    expect(bodies['up-o1']).toEqual({ model: 'up-o1', messages: [{ role: 'user', content: 'x' }], max_completion_tokens: 16 });
    expect(bodies['up-plain']).toEqual({ model: 'up-plain', messages: [{ role: 'user', content: 'ping' }], max_tokens: 1 });
  });

  it('keeps at most maxConcurrent probes in flight: 12 models with 4 run four at once, the next as soon as one ends', async () => {
    const upstreamHold = holdProbes();
    const counted = countingTransport();
    try {
      const models = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`m${i}`, `up-m${i}`]));
      const checking = service([provider(upstream.baseUrl, { models })], { transport: counted.transport }).checkProvider(1, { maxConcurrent: 4 });
      await upstreamHold.arrivals(4); // four in flight together, none has ended
      expect(counted.started).toBe(4);
      for (let next = 5; next <= 12; next++) {
        upstreamHold.answerOne(); // one probe ends...
        await upstreamHold.arrivals(next); // ...and the next one starts
        expect(counted.started).toBe(next);
        expect(upstreamHold.inFlight).toBe(4);
      }
      upstreamHold.answerAll();
      const report = await checking;
      expect(report.summary).toEqual({ total_models: 12, healthy_models: 12, unhealthy_models: 0 });
      expect(upstreamHold.peak).toBe(4);
      expect(report.models.map((m) => m.model)).toEqual(Object.keys(models));
    } finally {
      upstreamHold.release();
      await counted.close();
    }
  });

  it('times out after timeoutMs against a silent upstream, the timer covering the body read; response_time_ms is the time to the timeout', async () => {
    const silentArrived = gate();
    const stallsHeaders = gate();
    upstream.setHandler(
      byModel({
        'up-silent': () => silentArrived.open(),
        'up-stalls': (_req, res) => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.write('{"id":'); // headers and a first byte, then nothing
        },
      }),
    );
    // The real transport, watched: tells the test when the stalling answer's headers reached the probe.
    const real = createUndiciTransport();
    const transport: UpstreamTransport = async (request) => {
      const response = await real(request);
      stallsHeaders.open();
      return response;
    };
    // The probe's timer and its clock (the global performance) are fake from here: the timeout
    // fires when the test moves the clock, and response_time_ms reads the same clock.
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'clearImmediate', 'queueMicrotask', 'hrtime'] });
    try {
      let report: Awaited<ReturnType<HealthCheckService['checkProvider']>> | undefined;
      const checking = service([provider(upstream.baseUrl, { models: { silent: 'up-silent', stalls: 'up-stalls' } })], { transport })
        .checkProvider(1, { timeoutMs: 1000 })
        .then((done) => (report = done));
      await Promise.all([silentArrived.opened, stallsHeaders.opened]);
      await jest.advanceTimersByTimeAsync(999);
      expect(report).toBeUndefined();
      await jest.advanceTimersByTimeAsync(1);
      await checking;
      expect(report!.status).toBe('unhealthy');
      for (const model of report!.models) {
        expect(model.error).toBe('Timeout after 1s');
        expect(model.response_time_ms).toBe(1000);
      }
      expect(report!.models[1].http_status).toBe(200);
    } finally {
      jest.useRealTimers();
      await real.close();
    }
  });

  it('reports a refused connection without the URL, port or key, with the time until the failure', async () => {
    const port = await refusedPort();
    const report = await service([provider(`http://127.0.0.1:${port}/v1`, { models: { a: 'up-a' } })]).checkProvider(1);
    expect(report.status).toBe('unhealthy');
    expect(report.models[0]).toEqual({ model: 'a', upstream_model: 'up-a', status: 'unhealthy', response_time_ms: expect.any(Number), error: 'Could not connect to the upstream provider' });
    expect(Number.isInteger(report.models[0].response_time_ms)).toBe(true);
    expect(report.avg_response_time_ms).toBe(report.models[0].response_time_ms);
    expect(JSON.stringify(report)).not.toContain(String(port));
  });

  it('never repeats the API key or base URL an upstream error message contains', async () => {
    upstream.setHandler((_req, res) => json(res, 401, { error: { message: `Incorrect API key provided: ${SECRET} for ${upstream.baseUrl}` } }));
    const report = await service([provider(upstream.baseUrl, { models: { a: 'up-a' } })]).checkProvider(1);
    expect(report.models[0].error).toBe('HTTP 401 - Incorrect API key provided: [redacted] for [redacted]');
    expect(JSON.stringify(report)).not.toContain(SECRET);
  });

  it('reports a disabled provider without probing it', async () => {
    const report = await service([provider(upstream.baseUrl, { enabled: false })]).checkProvider(1);
    expect(report).toEqual({ provider_id: 1, provider_key: 'mock', status: 'disabled', models: [], summary: { total_models: 0, healthy_models: 0, unhealthy_models: 0 }, checked_at: expect.any(String) });
    expect(upstream.requests).toHaveLength(0);
  });

  it('reports unknown when there is nothing to probe: an empty mapping or models: []', async () => {
    const s = service([provider(upstream.baseUrl), provider(upstream.baseUrl, { id: 'empty', key: 'empty', models: {} })]);
    expect((await s.checkProvider(1, { models: [] })).status).toBe('unknown');
    expect((await s.checkProvider('empty')).status).toBe('unknown');
    expect(upstream.requests).toHaveLength(0);
  });

  it('probes only the models asked, in the order asked; null means all', async () => {
    const s = service([provider(upstream.baseUrl, { models: { a: 'up-a', b: 'up-b', c: 'up-c' } })]);
    expect((await s.checkProvider(1, { models: ['c', 'a'] })).models.map((m) => m.model)).toEqual(['c', 'a']);
    expect((await s.checkProvider(1, { models: null })).models.map((m) => m.model)).toEqual(['a', 'b', 'c']);
  });

  it('rejects an unknown provider and an unmapped model with stable codes', async () => {
    const s = service([provider(upstream.baseUrl)]);
    await expect(s.checkProvider('../../etc')).rejects.toMatchObject({ name: 'HealthCheckError', code: 'provider_not_found', status: 404 });
    await expect(s.checkProvider(1, { models: ['gpt-test', 'nope'] })).rejects.toMatchObject({ code: 'model_not_mapped', status: 400, option: 'models' });
    await expect(s.checkProvider(1, { maxConcurrent: 0 })).rejects.toMatchObject({ name: 'InvalidOptionError', option: 'maxConcurrent' });
    expect(upstream.requests).toHaveLength(0);
  });

  it('works with a fetch function and with a registry', async () => {
    const registry = { list: async () => [provider(upstream.baseUrl, { models: { a: 'up-a' } })] };
    const s = new HealthCheckService({ providers: registry, fetch: globalThis.fetch as never });
    const report = await s.checkProvider(1);
    expect(report.status).toBe('healthy');
    expect(upstream.requests[0].headers.authorization).toBe(`Bearer ${SECRET}`);
  });

  it('throws at construction on bad options, naming them', () => {
    expect(() => new HealthCheckService({} as never)).toThrow(/`providers`/);
    expect(() => new HealthCheckService({ providers: [], fetch: 'x' as never })).toThrow(/`fetch`/);
    expect(() => new HealthCheckService({ providers: [], logger: {} as never })).toThrow(/`logger`/);
  });
});

describe('HealthCheckService.checkProviders', () => {
  it('checks every enabled provider under one concurrency limit and counts them', async () => {
    const upstreamHold = holdProbes((request) => (request.json?.model === 'down' ? (_req, res) => json(res, 503, { error: { message: 'overloaded' } }) : okJson));
    const counted = countingTransport();
    try {
      const s = service(
        [
          provider(upstream.baseUrl, { id: 1, key: 'a', models: { x: 'up-x', y: 'up-y', z: 'up-z' } }),
          provider(upstream.baseUrl, { id: 2, key: 'b', models: { x: 'up-x', w: 'down' } }),
          provider(upstream.baseUrl, { id: 3, key: 'c', models: { v: 'down' } }),
          provider(upstream.baseUrl, { id: 4, key: 'off', enabled: false }),
        ],
        { transport: counted.transport },
      );
      const checking = s.checkProviders({ maxConcurrent: 2 });
      await upstreamHold.arrivals(2); // two in flight together, across providers
      expect(counted.started).toBe(2);
      for (let next = 3; next <= 6; next++) {
        upstreamHold.answerOne();
        await upstreamHold.arrivals(next);
        expect(counted.started).toBe(next);
      }
      upstreamHold.answerAll();
      const report = await checking;
      expect(upstreamHold.peak).toBe(2);
      expect(report.providers.map((p) => [p.provider_key, p.status])).toEqual([
        ['a', 'healthy'],
        ['b', 'degraded'],
        ['c', 'unhealthy'],
      ]);
      expect(report).toMatchObject({ total_providers: 3, healthy_providers: 1, degraded_providers: 1, unhealthy_providers: 1 });
    } finally {
      upstreamHold.release();
      await counted.close();
    }
  });

  it('takes provider ids (a disabled one is reported) and filters models per provider', async () => {
    const s = service([
      provider(upstream.baseUrl, { id: 1, key: 'a', models: { x: 'up-x', y: 'up-y' } }),
      provider(upstream.baseUrl, { id: 'two', key: 'b', models: { y: 'up-y' } }),
      provider(upstream.baseUrl, { id: 3, key: 'off', enabled: false }),
    ]);
    const report = await s.checkProviders({ providerIds: ['two', 1, '1', 3], models: ['x'] });
    expect(report.providers.map((p) => [p.provider_id, p.status, p.models.map((m) => m.model)])).toEqual([
      ['two', 'unknown', []],
      [1, 'healthy', ['x']],
      [3, 'disabled', []],
    ]);
    expect(report.total_providers).toBe(3);
    await expect(s.checkProviders({ providerIds: [1, 99] })).rejects.toMatchObject({ code: 'provider_not_found', option: 'providerIds' });
    await expect(s.checkProviders({ models: ['nobody'] })).rejects.toMatchObject({ code: 'model_not_mapped', option: 'models' });
  });
});
