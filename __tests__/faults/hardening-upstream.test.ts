/**
 * Upstream answers an adversarial review aimed at: redirects that would carry the provider's key
 * elsewhere, compressed answers that decode to far more than they weigh, and content-encodings
 * the proxy cannot (or can only partly) decode.
 */
import nodeFetch from 'node-fetch';
import { Agent, interceptors } from 'undici';
import { buildApp, listen, provider, SECRET } from '../kit/app.js';
import { postJson } from '../kit/client.js';
import type { TestUpstream } from '../kit/upstream.js';
import { startUpstream } from '../kit/upstream.js';
import { createUndiciTransport, HealthCheckService } from '../../lib/index.js';
import type { FetchLike } from '../../lib/index.js';

let first: TestUpstream;
/** Where the redirects point: nothing may ever arrive here. */
let elsewhere: TestUpstream;

beforeAll(async () => {
  first = await startUpstream((_req, res) => {
    res.end();
  });
  elsewhere = await startUpstream((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"stolen":true}');
  });
});
afterAll(async () => {
  await first.close();
  await elsewhere.close();
});
beforeEach(() => {
  first.requests.length = 0;
  elsewhere.requests.length = 0;
});

const transports: [string, FetchLike | undefined][] = [
  ['the default transport', undefined],
  ['global fetch', globalThis.fetch],
  ['node-fetch', nodeFetch],
];
const chat = { model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] };

describe.each(transports)('redirects are never followed: %s', (_name, fetchImpl) => {
  it.each([301, 302, 303, 307, 308])('a %i is passed through (status, location, body) and nothing reaches the other origin', async (status) => {
    const location = `${elsewhere.baseUrl}/chat/completions`;
    const body = `{"moved":${status}}`;
    first.setHandler((_req, res) => {
      res.writeHead(status, { location, 'content-type': 'application/json', 'x-upstream': 'first' });
      res.end(body);
    });
    const { app, router } = buildApp({ providers: [provider(first.baseUrl)], ...(fetchImpl ? { fetch: fetchImpl } : {}) });
    const host = await listen(app);
    try {
      const res = await postJson(`${host.url}/llm/v1/chat/completions`, chat);
      expect(res.status).toBe(status);
      expect(res.headers.location).toBe(location);
      expect(res.headers['x-upstream']).toBe('first');
      expect(res.text).toBe(body);
      expect(first.requests).toHaveLength(1);
      expect(first.requests[0].headers.authorization).toBe(`Bearer ${SECRET}`);
      expect(elsewhere.requests).toHaveLength(0);
    } finally {
      await host.close();
      await router.close();
    }
  });

  it('a health probe answered with a redirect is unhealthy, and the probe goes nowhere else', async () => {
    first.setHandler((_req, res) => {
      res.writeHead(307, { location: `${elsewhere.baseUrl}/chat/completions` });
      res.end();
    });
    const service = new HealthCheckService({ providers: [provider(first.baseUrl)], ...(fetchImpl ? { fetch: fetchImpl } : {}) });
    try {
      const report = await service.checkProvider(1, { models: ['gpt-test'] });
      expect(report.models[0]).toMatchObject({ status: 'unhealthy', http_status: 307, error: 'HTTP 307' });
      expect(first.requests).toHaveLength(1);
      expect(elsewhere.requests).toHaveLength(0);
    } finally {
      await service.close();
    }
  });
});

describe('redirects are never followed: an undici dispatcher of the host', () => {
  it('a dispatcher composed with the redirect interceptor still hands the redirect back', async () => {
    first.setHandler((_req, res) => {
      res.writeHead(307, { location: `${elsewhere.baseUrl}/chat/completions` });
      res.end();
    });
    const agent = new Agent();
    const transport = createUndiciTransport({ dispatcher: agent.compose(interceptors.redirect({ maxRedirections: 5 })) });
    try {
      const controller = new AbortController();
      const response = await transport({
        url: `${first.baseUrl}/chat/completions`,
        method: 'POST',
        headers: { authorization: `Bearer ${SECRET}`, 'content-type': 'application/json' },
        body: Buffer.from('{}'),
        signal: controller.signal,
      });
      response.body.resume();
      expect(response.status).toBe(307);
      expect(first.requests).toHaveLength(1);
      expect(elsewhere.requests).toHaveLength(0);
    } finally {
      await agent.close();
    }
  });
});
