import type http from 'node:http';
import express from 'express';
import request from 'supertest';
import { createHealthRouter, HealthCheckService } from '../../lib/index.js';
import type { ProviderConfig } from '../../lib/index.js';
import { buildApp, provider, SECRET } from '../kit/app.js';
import type { TestApp } from '../kit/app.js';
import type { TestUpstream } from '../kit/upstream.js';
import { okJson, startUpstream } from '../kit/upstream.js';

const ADMIN = 'admin-key-0123456789';
const auth = { authorization: `Bearer ${ADMIN}` };

const json = (res: http.ServerResponse, status: number, body: unknown) => {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
};

let upstream: TestUpstream;
let app: TestApp;

const providers = (): ProviderConfig[] => [
  provider(upstream.baseUrl, { id: 1, key: 'main', models: { ok: 'up-ok', limited: 'up-429', broken: 'up-500', silent: 'up-silent' } }),
  provider(upstream.baseUrl, { id: 'two', key: 'second', models: { ok: 'up-ok', embed: { model: 'up-embed', healthCheck: { mode: 'embedding' } } } }),
  provider(upstream.baseUrl, { id: 3, key: 'off', enabled: false }),
];

beforeAll(async () => {
  upstream = await startUpstream(okJson);
  upstream.setHandler((req, res, recorded) => {
    switch (recorded.json?.model) {
      case 'up-429':
        return json(res, 429, { error: { message: 'Rate limit reached' } });
      case 'up-500':
        return json(res, 500, { error: { message: 'The server had an error' } });
      case 'up-silent':
        return; // never answers
      default:
        return okJson(req, res, recorded);
    }
  });
  app = buildApp({ providers: providers(), adminKey: ADMIN });
});
afterAll(async () => {
  await app.router.close();
  await upstream.close();
});
beforeEach(() => {
  upstream.requests.length = 0;
});

const post = (path: string) => request(app.app).post(`/llm${path}`).set(auth);

describe('POST /admin/v1/providers/:id/health', () => {
  it('answers the provider report with statuses, http_status, errors and degraded', async () => {
    const res = await post('/admin/v1/providers/1/health').send({ timeout_secs: 1, max_concurrent: 4 }).expect(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(Object.keys(res.body)).toEqual(['provider_id', 'provider_key', 'status', 'models', 'summary', 'avg_response_time_ms', 'checked_at']);
    expect(res.body).toMatchObject({ provider_id: 1, provider_key: 'main', status: 'degraded', summary: { total_models: 4, healthy_models: 1, unhealthy_models: 3 } });
    expect(res.body.models).toEqual([
      { model: 'ok', upstream_model: 'up-ok', status: 'healthy', response_time_ms: expect.any(Number), http_status: 200 },
      { model: 'limited', upstream_model: 'up-429', status: 'unhealthy', response_time_ms: expect.any(Number), http_status: 429, error: 'HTTP 429 - Rate limit reached' },
      { model: 'broken', upstream_model: 'up-500', status: 'unhealthy', response_time_ms: expect.any(Number), http_status: 500, error: 'HTTP 500 - The server had an error' },
      { model: 'silent', upstream_model: 'up-silent', status: 'unhealthy', response_time_ms: expect.any(Number), error: 'Timeout after 1s' },
    ]);
    expect(res.body.checked_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(JSON.stringify(res.body)).not.toContain(SECRET);
  });

  it('accepts an empty body, probes only the models asked, keeps a string id a string and hits /embeddings', async () => {
    const res = await post('/admin/v1/providers/two/health').send({ models: ['embed'], unknown_field: true }).expect(200);
    expect(res.body).toMatchObject({ provider_id: 'two', status: 'healthy', models: [{ model: 'embed', upstream_model: 'up-embed' }] });
    expect(upstream.requests.map((r) => r.url)).toEqual(['/v1/embeddings']);
    const empty = await request(app.app).post('/llm/admin/v1/providers/two/health').set(auth).expect(200);
    expect(empty.body.summary.total_models).toBe(2);
  });

  it('reports a disabled provider without probing it', async () => {
    const res = await post('/admin/v1/providers/3/health').send({}).expect(200);
    expect(res.body).toEqual({ provider_id: 3, provider_key: 'off', status: 'disabled', models: [], summary: { total_models: 0, healthy_models: 0, unhealthy_models: 0 }, checked_at: expect.any(String) });
    expect(upstream.requests).toHaveLength(0);
  });

  it.each(['99', '..%2F..%2Fetc', '%2E%2E'])('answers 404 for unknown provider %s', async (id) => {
    const res = await post(`/admin/v1/providers/${id}/health`).send({}).expect(404);
    expect(res.body.error).toMatchObject({ type: 'invalid_request_error', code: 'provider_not_found' });
    expect(upstream.requests).toHaveLength(0);
  });

  it.each([
    ['max_concurrent', 0],
    ['max_concurrent', 11],
    ['max_concurrent', '2'],
    ['max_concurrent', 2.5],
    ['timeout_secs', 121],
    ['timeout_secs', 0],
    ['timeout_secs', '30'],
    ['models', 'ok'],
    ['models', [1]],
  ])('answers 400 naming %s for %j', async (field, value) => {
    const res = await post('/admin/v1/providers/1/health').send({ [field]: value }).expect(400);
    expect(res.body.error).toMatchObject({ type: 'invalid_request_error', param: field });
    expect(upstream.requests).toHaveLength(0);
  });

  it('answers 400 naming models for a model the provider does not map', async () => {
    const res = await post('/admin/v1/providers/1/health').send({ models: ['ok', 'embed'] }).expect(400);
    expect(res.body.error).toMatchObject({ type: 'invalid_request_error', param: 'models', code: 'model_not_mapped' });
    expect(upstream.requests).toHaveLength(0);
  });

  it('answers 400 for a body that is not a JSON object', async () => {
    const res = await post('/admin/v1/providers/1/health').set('content-type', 'application/json').send('[1,2]').expect(400);
    expect(res.body.error.type).toBe('invalid_request_error');
    await post('/admin/v1/providers/1/health').set('content-type', 'application/json').send('{oops').expect(400);
  });
});

describe('admin auth', () => {
  const routes: [string, string][] = [
    ['post', '/llm/admin/v1/providers/1/health'],
    ['post', '/llm/admin/v1/health/check'],
    ['get', '/llm/admin/v1/health/providers/1'],
  ];

  it.each(routes)('%s %s answers the same 401 for a missing and a wrong key, before anything else', async (method, path) => {
    const missing = await request(app.app)[method as 'post'](path).send({ max_concurrent: 'bad' });
    const wrong = await request(app.app)[method as 'post'](path).set('authorization', `Bearer ${ADMIN}x`).send({});
    const clientStyle = await request(app.app)[method as 'post'](path).set('authorization', ADMIN);
    for (const res of [missing, wrong, clientStyle]) {
      expect(res.status).toBe(401);
      expect(res.body).toEqual(missing.body);
      expect(res.body.error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_api_key' });
    }
    expect(upstream.requests).toHaveLength(0);
  });

  it('answers 404 on the admin routes when no adminKey is set', async () => {
    const bare = buildApp({ providers: providers() });
    await request(bare.app).post('/llm/admin/v1/providers/1/health').set(auth).send({}).expect(404);
    await request(bare.app).post('/llm/admin/v1/health/check').set(auth).send({}).expect(404);
    await request(bare.app).get('/llm/admin/v1/health/providers/1').set(auth).expect(404);
    await bare.router.close();
  });
});

describe('POST /admin/v1/health/check', () => {
  it('checks every enabled provider and counts them', async () => {
    const res = await post('/admin/v1/health/check').send({ timeout_secs: 1, max_concurrent: 10 }).expect(200);
    expect(res.body.providers.map((p: { provider_id: unknown; status: string }) => [p.provider_id, p.status])).toEqual([
      [1, 'degraded'],
      ['two', 'healthy'],
    ]);
    expect(res.body).toMatchObject({ total_providers: 2, healthy_providers: 1, degraded_providers: 1, unhealthy_providers: 0 });
  });

  it('takes provider_ids and models', async () => {
    const res = await post('/admin/v1/health/check').send({ provider_ids: ['two', 3], models: ['ok'] }).expect(200);
    expect(res.body.providers.map((p: { provider_key: string; status: string }) => [p.provider_key, p.status])).toEqual([
      ['second', 'healthy'],
      ['off', 'disabled'],
    ]);
    expect(upstream.requests).toHaveLength(1);
  });

  it.each([
    [{ provider_ids: 'two' }, 'provider_ids', 400],
    [{ provider_ids: [{}] }, 'provider_ids', 400],
    [{ provider_ids: [1, 'nope'] }, 'provider_ids', 404],
    [{ models: ['nobody'] }, 'models', 400],
    [{ max_concurrent: 11 }, 'max_concurrent', 400],
    [{ timeout_secs: 121 }, 'timeout_secs', 400],
  ])('answers %j with param %s and status %i', async (body, param, status) => {
    const res = await post('/admin/v1/health/check').send(body).expect(status);
    expect(res.body.error.param).toBe(param);
    expect(upstream.requests).toHaveLength(0);
  });
});

describe('GET /admin/v1/health/providers/:id', () => {
  it('takes models and timeout_secs from the query', async () => {
    const res = await request(app.app).get('/llm/admin/v1/health/providers/1?models=silent,ok&timeout_secs=1').set(auth).expect(200);
    // The probe's message is built from the same timeoutMs its timer runs on: 1 s came from the query.
    expect(res.body.models.map((m: { model: string; error?: string }) => [m.model, m.error])).toEqual([
      ['silent', 'Timeout after 1s'],
      ['ok', undefined],
    ]);
    expect(res.body.status).toBe('degraded');
  });

  it('validates the query like the body', async () => {
    const bad = await request(app.app).get('/llm/admin/v1/health/providers/1?timeout_secs=abc').set(auth).expect(400);
    expect(bad.body.error.param).toBe('timeout_secs');
    const high = await request(app.app).get('/llm/admin/v1/health/providers/1?timeout_secs=121').set(auth).expect(400);
    expect(high.body.error.param).toBe('timeout_secs');
    const unmapped = await request(app.app).get('/llm/admin/v1/health/providers/1?models=embed').set(auth).expect(400);
    expect(unmapped.body.error.param).toBe('models');
    await request(app.app).get('/llm/admin/v1/health/providers/nope').set(auth).expect(404);
  });
});

describe('createHealthRouter', () => {
  it('mounts anywhere in a host app, with a host body parser in front', async () => {
    const service = new HealthCheckService({ providers: providers() });
    const host = express();
    host.use(express.json());
    host.use('/ops', createHealthRouter({ service, adminKey: ADMIN }));
    const res = await request(host).post('/ops/admin/v1/providers/two/health').set(auth).send({ models: ['ok'], max_concurrent: 1 }).expect(200);
    expect(res.body).toMatchObject({ provider_id: 'two', status: 'healthy' });
    await request(host).post('/ops/admin/v1/health/check').send({}).expect(401);
    await service.close();
  });

  it('throws on bad options, naming them', () => {
    const service = new HealthCheckService({ providers: [], fetch: globalThis.fetch as never });
    expect(() => createHealthRouter({ service, adminKey: '' })).toThrow(/`adminKey`/);
    expect(() => createHealthRouter({ adminKey: ADMIN } as never)).toThrow(/`service`/);
  });

  it('lets the proxy routes keep working beside it', async () => {
    await request(app.app).post('/llm/v1/chat/completions').send({ model: 'ok', messages: [] }).expect(200);
  });
});
