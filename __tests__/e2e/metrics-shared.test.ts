/**
 * Metrics with a shared store: a breaker that opens through one instance shows as open in the
 * other instance's `llm_proxy_circuit_state`, under the provider's key, though that instance never
 * served a request. Two routers, each with its own Registry, node-redis client and store, on one
 * real Redis.
 */
import { randomUUID } from 'node:crypto';
import { Registry } from 'prom-client';
import request from 'supertest';
import { createRedisStore } from '../../lib/redis/index.js';
import { buildApp, provider } from '../kit/app.js';
import { scrape, valueOf } from '../kit/observability.js';
import { connectClient, describeWithRedis, startRedis } from '../kit/redis-server.js';
import type { TestRedis } from '../kit/redis-server.js';
import { closeAfterEach } from '../kit/stream-client.js';
import { failOnUnhandledErrors } from '../kit/unhandled.js';
import { refusedPort, sleep } from '../kit/upstream.js';

const quiet = { warn: () => undefined, error: () => undefined, info: () => undefined };

describeWithRedis('metrics with a shared store', () => {
  failOnUnhandledErrors();
  const track = closeAfterEach();
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(() => redis?.stop());

  async function instance(prefix: string, baseUrl: string, adminKey?: string) {
    const client = await connectClient(redis.url);
    const store = createRedisStore({ client, prefix, logger: quiet });
    await store.ready;
    const registry = new Registry();
    const { app, router } = buildApp({
      providers: [provider(baseUrl, { id: 7, key: 'dead' })],
      store,
      metrics: { registry },
      logRequests: false,
      breaker: { failureThreshold: 1, cooldownMs: 60_000 },
      ...(adminKey === undefined ? {} : { adminKey }),
    });
    track(async () => {
      await router.close();
      await store.close();
      client.destroy();
    });
    return { app, registry };
  }

  it('a breaker opened through A is open in B\u2019s metrics, labelled with the provider key', async () => {
    const prefix = `m-${randomUUID()}:`;
    const dead = `http://127.0.0.1:${await refusedPort()}/v1`;
    const a = await instance(prefix, dead);
    const b = await instance(prefix, dead);
    await request(a.app).post('/llm/v1/chat/completions').send({ model: 'gpt-test', messages: [] }).expect(502);
    const open = { provider: 'dead', model: 'gpt-test', state: 'open' };
    let samples = await scrape(b.registry);
    for (let tries = 0; tries < 100 && valueOf(samples, 'llm_proxy_circuit_state', open) !== 1; tries++) {
      await sleep(10);
      samples = await scrape(b.registry);
    }
    expect(valueOf(samples, 'llm_proxy_circuit_state', open)).toBe(1);
    expect(valueOf(samples, 'llm_proxy_circuit_state', { ...open, state: 'closed' })).toBe(0);
    expect(valueOf(samples, 'llm_proxy_requests_total', { api: 'chat', provider: 'dead', model: 'gpt-test', status: '502' })).toBeUndefined(); // B served nothing
  });

  it('a health check made through A sets B\u2019s llm_proxy_provider_health', async () => {
    const prefix = `m-${randomUUID()}:`;
    const dead = `http://127.0.0.1:${await refusedPort()}/v1`;
    const admin = 'admin-key-0123456789';
    const a = await instance(prefix, dead, admin);
    const b = await instance(prefix, dead, admin);
    await request(a.app).post('/llm/admin/v1/providers/7/health').set('authorization', `Bearer ${admin}`).send({}).expect(200);
    const pair = { provider: 'dead', model: 'gpt-test' };
    let samples = await scrape(b.registry);
    for (let tries = 0; tries < 100 && valueOf(samples, 'llm_proxy_provider_health', pair) === undefined; tries++) {
      await sleep(10);
      samples = await scrape(b.registry);
    }
    expect(valueOf(samples, 'llm_proxy_provider_health', pair)).toBe(0); // unhealthy, as A found it
  });
});
