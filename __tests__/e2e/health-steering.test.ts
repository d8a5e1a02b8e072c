import request from 'supertest';
import { buildApp, provider } from '../kit/app.js';
import type { RecordedRequest, TestUpstream } from '../kit/upstream.js';
import { okJson, sleep, startUpstream } from '../kit/upstream.js';

const MODELS = { 'gpt-test': 'upstream-gpt' };
const isProbe = (seen: RecordedRequest) => seen.json?.max_tokens === 5 && (seen.json?.messages as { content: string }[])?.[0]?.content === 'Hi';

let a: TestUpstream;
let b: TestUpstream;
let aProbesFail = true;
beforeAll(async () => {
  a = await startUpstream((req, res, seen) => {
    if (isProbe(seen) && aProbesFail) {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end('{"error":{"message":"model overloaded"}}');
    } else okJson(req, res, seen);
  });
  b = await startUpstream(okJson);
});
afterAll(async () => {
  await a.close();
  await b.close();
});

const realRequests = (upstream: TestUpstream) => upstream.requests.filter((seen) => !isProbe(seen)).length;

async function until(check: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await sleep(20);
  }
}

it('moves traffic off a pair a background check found unhealthy, and back after it recovers', async () => {
  const { app, router } = buildApp({
    providers: [provider(a.baseUrl, { id: 1, key: 'a', models: MODELS }), provider(b.baseUrl, { id: 2, key: 'b', models: MODELS })],
    health: { intervalMs: 150, timeoutMs: 1000 },
    adminKey: 'admin-key',
  });
  await until(() => a.requests.some(isProbe) && b.requests.some(isProbe));
  await sleep(50);
  for (let i = 0; i < 10; i++) {
    const res = await request(app).post('/llm/v1/chat/completions').send({ model: 'gpt-test', messages: [{ role: 'user', content: 'x' }] });
    expect(res.headers['x-llm-proxy-provider']).toBe('b');
  }
  expect(realRequests(a)).toBe(0);

  const status = await request(app).get('/llm/admin/v1/health').set('authorization', 'Bearer admin-key').expect(200);
  const reportA = status.body.providers.find((p: { provider_key: string }) => p.provider_key === 'a');
  expect(reportA).toMatchObject({ status: 'unhealthy', models: [{ model: 'gpt-test', status: 'unhealthy', http_status: 500 }] });
  expect(status.body.breakers).toEqual(expect.arrayContaining([expect.objectContaining({ provider_id: 1, model: 'gpt-test', unhealthy_since: expect.any(String) })]));
  await request(app).get('/llm/admin/v1/health').expect(401);

  aProbesFail = false;
  const probesBefore = a.requests.filter(isProbe).length;
  await until(() => a.requests.filter(isProbe).length > probesBefore + 1);
  const served = new Set<string>();
  for (let i = 0; i < 10; i++) {
    const res = await request(app).post('/llm/v1/chat/completions').send({ model: 'gpt-test', messages: [{ role: 'user', content: 'x' }] });
    served.add(res.headers['x-llm-proxy-provider']);
  }
  expect(served).toEqual(new Set(['a', 'b']));
  await router.close();
});
