/** `apiKeys`: a list or a predicate guards the proxy routes with `Authorization: Bearer <key>`. */
import type { IncomingMessage } from 'node:http';
import type { Request } from 'express';
import request from 'supertest';
import { waitFor } from '../kit/client.js';
import { buildApp, provider, SECRET } from '../kit/app.js';
import { okJson, useUpstream } from '../kit/upstream.js';

const upstream = useUpstream(okJson);

const chat = { model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] };
// The proxy's own words, not OpenAI's "Incorrect API key provided": a client can tell who refused it.
const invalidKey = { error: { message: 'Invalid proxy API key', type: 'invalid_request_error', param: null, code: 'invalid_api_key' } };

describe('apiKeys as a list', () => {
  const keys = ['sk-client-one', 'sk-client-two'];

  it.each<[string, string | undefined]>([
    ['no authorization header', undefined],
    ['an unknown key', 'Bearer sk-client-three'],
    ['a prefix of a valid key', 'Bearer sk-client-on'],
    ['a valid key with a different scheme', 'Basic sk-client-one'],
    ['the bare key without a scheme', 'sk-client-one'],
    ['an empty bearer', 'Bearer '],
  ])('answers 401 invalid_api_key for %s, without calling upstream', async (_name, authorization) => {
    const { app, router } = buildApp({ providers: [provider(upstream.baseUrl)], apiKeys: keys });
    const req = request(app).post('/llm/v1/chat/completions');
    if (authorization !== undefined) req.set('authorization', authorization);
    const res = await req.send(chat);
    expect(res.status).toBe(401);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body).toEqual(invalidKey);
    expect(res.headers['www-authenticate']).toBe('Bearer');
    expect(upstream.requests).toHaveLength(0);
    await router.close();
  });

  it('lets every listed key through and sends the provider key upstream, never the client one', async () => {
    const { app, router } = buildApp({ providers: [provider(upstream.baseUrl)], apiKeys: keys });
    for (const key of keys) {
      await request(app).post('/llm/v1/chat/completions').set('authorization', `Bearer ${key}`).send(chat).expect(200);
    }
    await request(app).post('/llm/v1/chat/completions').set('authorization', 'bearer sk-client-one').send(chat).expect(200);
    expect(upstream.requests.map((r) => r.headers.authorization)).toEqual([`Bearer ${SECRET}`, `Bearer ${SECRET}`, `Bearer ${SECRET}`]);
    await router.close();
  });

  it('guards /v1/models and every proxy route, and leaves the host routes alone', async () => {
    const { app, router } = buildApp({ providers: [provider(upstream.baseUrl)], apiKeys: keys });
    await request(app).get('/llm/v1/models').expect(401);
    await request(app).post('/llm/v1/embeddings').send({ model: 'embed-test', input: 'x' }).expect(401);
    await request(app).post('/llm/v1/completions').send({ model: 'gpt-test', prompt: 'x' }).expect(401);
    await request(app).get('/llm/v1/models').set('authorization', 'Bearer sk-client-two').expect(200);
    await request(app).get('/healthz').expect(200);
    expect(upstream.requests).toHaveLength(0);
    await router.close();
  });

  it('does not check keys when apiKeys is not set', async () => {
    const { app, router } = buildApp({ providers: [provider(upstream.baseUrl)] });
    await request(app).post('/llm/v1/chat/completions').send(chat).expect(200);
    await router.close();
  });
});

describe('apiKeys as a predicate', () => {
  it('asks the predicate with the key and the request; true lets through, false is a 401', async () => {
    const seen: { key: string; path: string | undefined }[] = [];
    const predicate = async (key: string, req: IncomingMessage) => {
      seen.push({ key, path: req.url });
      await new Promise((resolve) => setTimeout(resolve, 5));
      return key.startsWith('tenant-');
    };
    const { app, router } = buildApp({ providers: [provider(upstream.baseUrl)], apiKeys: predicate });
    await request(app).post('/llm/v1/chat/completions').set('authorization', 'Bearer tenant-42').send(chat).expect(200);
    const denied = await request(app).post('/llm/v1/chat/completions').set('authorization', 'Bearer stranger').send(chat).expect(401);
    expect(denied.body).toEqual(invalidKey);
    expect(seen.map((s) => s.key)).toEqual(['tenant-42', 'stranger']);
    expect(seen[0].path).toContain('/v1/chat/completions');
    expect(upstream.requests).toHaveLength(1);
    await router.close();
  });

  it('works with a synchronous predicate; only `true` or a non-empty string lets through', async () => {
    const verdicts: Record<string, unknown> = { yes: true, no: false, one: 1, object: {}, empty: '', nothing: undefined };
    const { app, router } = buildApp({ providers: [provider(upstream.baseUrl)], apiKeys: (key) => verdicts[key] as boolean });
    await request(app).post('/llm/v1/chat/completions').set('authorization', 'Bearer yes').send(chat).expect(200);
    for (const key of ['no', 'one', 'object', 'empty', 'nothing']) {
      await request(app).post('/llm/v1/chat/completions').set('authorization', `Bearer ${key}`).send(chat).expect(401);
    }
    await router.close();
  });

  it('lets a predicate name the caller: the identity is logged as `client`, and a list key names nobody', async () => {
    const teams: Record<string, string> = { 'sk-team-a': 'team-a' };
    const { app, router, entries } = buildApp({ providers: [provider(upstream.baseUrl)], apiKeys: async (key) => teams[key] ?? false });
    await request(app).post('/llm/v1/chat/completions').set('authorization', 'Bearer sk-team-a').send(chat).expect(200);
    await request(app).post('/llm/v1/chat/completions').set('authorization', 'Bearer sk-team-b').send(chat).expect(401);
    await waitFor(() => entries.length === 2);
    expect(entries.map((e) => [e.status, e.client])).toEqual([
      [200, 'team-a'],
      [401, undefined],
    ]);
    expect(JSON.stringify(entries)).not.toContain('sk-team-a');
    await router.close();

    const listed = buildApp({ providers: [provider(upstream.baseUrl)], apiKeys: ['sk-listed'] });
    await request(listed.app).post('/llm/v1/chat/completions').set('authorization', 'Bearer sk-listed').send(chat).expect(200);
    await waitFor(() => listed.entries.length === 1);
    expect(listed.entries[0]).not.toHaveProperty('client');
    await listed.router.close();
  });

  it("types the predicate's request as Express's Request (req.ip, req.get) without a cast", async () => {
    const seen: (string | undefined)[] = [];
    const predicate = (key: string, req: Request): string | false => {
      seen.push(req.ip, req.get('x-team'));
      return key === 'k' ? `${req.get('x-team')}@${req.ip}` : false;
    };
    const { app, router, entries } = buildApp({ providers: [provider(upstream.baseUrl)], apiKeys: predicate });
    await request(app).post('/llm/v1/chat/completions').set('authorization', 'Bearer k').set('x-team', 'blue').send(chat).expect(200);
    expect(seen[0]).toMatch(/127\.0\.0\.1/);
    expect(seen[1]).toBe('blue');
    await waitFor(() => entries.length === 1);
    expect(entries[0].client).toMatch(/^blue@.*127\.0\.0\.1$/);
    await router.close();
  });

  it('never calls the predicate without a bearer key', async () => {
    let calls = 0;
    const { app, router } = buildApp({ providers: [provider(upstream.baseUrl)], apiKeys: () => ++calls > 0 });
    await request(app).post('/llm/v1/chat/completions').send(chat).expect(401);
    expect(calls).toBe(0);
    await router.close();
  });

  it('answers an OpenAI-shaped 500 when the predicate throws, and logs it', async () => {
    const { app, router, entries } = buildApp({
      providers: [provider(upstream.baseUrl)],
      apiKeys: async () => {
        throw new Error('key store offline');
      },
    });
    const res = await request(app).post('/llm/v1/chat/completions').set('authorization', 'Bearer k').send(chat);
    expect(res.status).toBe(500);
    expect(res.body.error).toMatchObject({ type: 'server_error' });
    expect(JSON.stringify(res.body)).not.toContain('key store offline');
    expect(entries.some((e) => e.level === 'error' && JSON.stringify(e).includes('key store offline'))).toBe(true);
    expect(upstream.requests).toHaveLength(0);
    await router.close();
  });
});
