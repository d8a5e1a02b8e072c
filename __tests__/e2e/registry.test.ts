/** A host backs providers with its own store: an object with an async `list()` and nothing else. */
import request from 'supertest';
import { buildApp, provider } from '../kit/app.js';
import type { TestUpstream } from '../kit/upstream.js';
import { okJson, startUpstream } from '../kit/upstream.js';
import type { ProviderConfig, ProviderRegistry } from '../../lib/index.js';

let first: TestUpstream;
let second: TestUpstream;
beforeAll(async () => {
  first = await startUpstream(okJson);
  second = await startUpstream(okJson);
});
afterAll(async () => {
  await first.close();
  await second.close();
});
beforeEach(() => {
  first.requests.length = 0;
  second.requests.length = 0;
});

/** A "database" the test edits between requests; every list() is a fresh query. */
function databaseRegistry(rows: ProviderConfig[]): ProviderRegistry & { rows: ProviderConfig[]; calls: number } {
  const registry = {
    rows,
    calls: 0,
    async list() {
      registry.calls += 1;
      await new Promise((resolve) => setImmediate(resolve));
      return registry.rows.map((row) => ({ ...row }));
    },
  };
  return registry;
}

const chat = (model = 'gpt-test') => ({ model, messages: [{ role: 'user', content: 'hi' }] });

describe('registry-backed router', () => {
  it('proxies through a provider an async list() returned', async () => {
    const registry = databaseRegistry([provider(first.baseUrl)]);
    const { app, router } = buildApp({ providers: registry });
    const res = await request(app).post('/llm/v1/chat/completions').send(chat()).expect(200);
    expect(res.body.model).toBe('upstream-gpt');
    expect(first.requests).toHaveLength(1);
    expect(registry.calls).toBeGreaterThanOrEqual(1);
    await router.close();
  });

  it('lists the models of what list() returns, each once', async () => {
    const registry = databaseRegistry([
      provider(first.baseUrl),
      provider(second.baseUrl, { id: 2, key: 'two', models: { 'gpt-test': 'g', extra: 'e' } }),
      provider(second.baseUrl, { id: 3, key: 'off', enabled: false, models: { hidden: 'h' } }),
    ]);
    const { app, router } = buildApp({ providers: registry });
    const res = await request(app).get('/llm/v1/models').expect(200);
    expect(res.body.data.map((m: { id: string }) => m.id).sort()).toEqual(['embed-test', 'extra', 'gpt-test']);
    await router.close();
  });

  it('follows changes in the store without a restart', async () => {
    const registry = databaseRegistry([provider(first.baseUrl)]);
    const { app, router } = buildApp({ providers: registry });
    await request(app).post('/llm/v1/chat/completions').send(chat()).expect(200);
    registry.rows = [provider(second.baseUrl, { id: 9, key: 'moved', models: { 'gpt-test': 'moved-model' } })];
    const res = await request(app).post('/llm/v1/chat/completions').send(chat()).expect(200);
    expect(res.body.model).toBe('moved-model');
    expect(second.requests).toHaveLength(1);
    expect(first.requests).toHaveLength(1);
    registry.rows = [];
    const gone = await request(app).post('/llm/v1/chat/completions').send(chat()).expect(404);
    expect(gone.body.error.code).toBe('model_not_found');
    await router.close();
  });

  it('keeps smooth 3:1 weighting when every list() returns fresh objects', async () => {
    const registry = databaseRegistry([provider(first.baseUrl, { weight: 3 }), provider(second.baseUrl, { id: 2, key: 'two', weight: 1 })]);
    const { app, router } = buildApp({ providers: registry });
    const order: string[] = [];
    for (let i = 0; i < 12; i++) {
      const res = await request(app).post('/llm/v1/chat/completions').send(chat()).expect(200);
      order.push(res.headers['x-llm-proxy-provider'] === 'two' ? 'b' : 'a');
    }
    expect(first.requests).toHaveLength(9);
    expect(second.requests).toHaveLength(3);
    expect(order.join('')).not.toContain('bb');
    await router.close();
  });

  it('also accepts a synchronous list()', async () => {
    const configs = [provider(first.baseUrl)];
    const { app, router } = buildApp({ providers: { list: () => configs } });
    await request(app).post('/llm/v1/chat/completions').send(chat()).expect(200);
    await router.close();
  });

  it('answers an OpenAI-shaped 503 provider_registry_unavailable without details when list() rejects and no list was good yet', async () => {
    const registry = { list: async (): Promise<ProviderConfig[]> => Promise.reject(new Error('db down at postgres://admin:pw@db.internal')) };
    const { app, router } = buildApp({ providers: registry });
    for (const res of [await request(app).post('/llm/v1/chat/completions').send(chat()), await request(app).get('/llm/v1/models')]) {
      expect(res.status).toBe(503);
      expect(res.body.error).toMatchObject({ type: 'server_error', code: 'provider_registry_unavailable', message: expect.any(String) });
      expect(JSON.stringify(res.body)).not.toMatch(/postgres|db\.internal|pw/);
    }
    expect(first.requests).toHaveLength(0);
    await router.close();
  });

  it('answers 503 (not 502) when list() returns an invalid config and no list was good yet, naming nothing secret', async () => {
    const registry = databaseRegistry([provider(first.baseUrl, { baseUrl: 'not a url' })]);
    const { app, router, entries } = buildApp({ providers: registry });
    const res = await request(app).post('/llm/v1/chat/completions').send(chat());
    expect(res.status).toBe(503);
    expect(res.body.error).toMatchObject({ type: 'server_error', code: 'provider_registry_unavailable' });
    expect(JSON.stringify(entries)).toContain('providers.list()[0].baseUrl');
    await router.close();
  });
});
