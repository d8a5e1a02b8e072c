/**
 * Runs in both jest projects: proves the host and the library share the Express the project
 * maps (4 or 5), and that the router behaves the same in either host.
 */
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import request from 'supertest';
import { buildApp, provider } from '../kit/app.js';
import type { TestUpstream } from '../kit/upstream.js';
import { okJson, startUpstream } from '../kit/upstream.js';
import { createLlmProxyRouter } from '../../lib/index.js';

declare const EXPRESS_MAJOR: 4 | 5;

let upstream: TestUpstream;
beforeAll(async () => {
  upstream = await startUpstream(okJson);
});
afterAll(() => upstream.close());

/** Express 4 still ships `express.query`; Express 5 removed it. */
const majorOf = (e: typeof express) => (typeof (e as unknown as { query?: unknown }).query === 'function' ? 4 : 5);

describe(`Express ${EXPRESS_MAJOR} host`, () => {
  it('runs on the Express this project maps', () => {
    expect(majorOf(express)).toBe(EXPRESS_MAJOR);
  });

  it('builds its router from the same Express as the host', async () => {
    const router = createLlmProxyRouter({ providers: [provider(upstream.baseUrl)], logRequests: false });
    // Express 4 routers have `express.Router` as their prototype; Express 5 routers are instances of it.
    const proto = Object.getPrototypeOf(router) as unknown;
    expect(proto === express.Router || proto instanceof express.Router).toBe(true);
    await router.close();
  });

  it('proxies under a prefix next to host routes, before and after it', async () => {
    const { app, router } = buildApp({ providers: [provider(upstream.baseUrl)] }, (host) => host.get('/before', (_req, res) => void res.send('before')));
    await request(app).get('/before').expect(200, 'before');
    const res = await request(app).post('/llm/v1/chat/completions').send({ model: 'gpt-test', messages: [] }).expect(200);
    expect(res.body.model).toBe('upstream-gpt');
    await request(app).get('/after').expect(200, 'host route after the router');
    const unknown = await request(app).get('/llm/v1/nope').expect(404);
    expect(unknown.body.error.type).toBe('invalid_request_error');
    await router.close();
  });

  it('mounted at the root, leaves the host routes that follow it reachable', async () => {
    const app = express();
    const router = createLlmProxyRouter({ providers: [provider(upstream.baseUrl)], logRequests: false });
    app.use(router);
    app.get('/status', (_req, res) => void res.json({ up: true }));
    await request(app).get('/status').expect(200, { up: true });
    await request(app).post('/v1/chat/completions').send({ model: 'gpt-test', messages: [] }).expect(200);
    await router.close();
  });

  it("serves its API routes without Express's layer walk, and everything else through it", async () => {
    // Express 4 routers take their methods from `express.Router` itself, Express 5 ones from its prototype.
    const methods = (EXPRESS_MAJOR === 4 ? express.Router : express.Router.prototype) as unknown as { handle: (...args: unknown[]) => unknown };
    const original = methods.handle;
    const walked: string[] = [];
    let ours: unknown;
    methods.handle = function (this: unknown, ...args: unknown[]) {
      if (this === ours) walked.push((args[0] as Request).url);
      return original.apply(this, args);
    };
    try {
      const { app, router } = buildApp({ providers: [provider(upstream.baseUrl)], adminKey: 'admin-secret' });
      ours = router;
      await request(app).post('/llm/v1/chat/completions').send({ model: 'gpt-test', messages: [] }).expect(200);
      await request(app).get('/llm/v1/models').expect(200);
      await request(app).get('/llm/v1/chat/completions').expect(405);
      expect(walked).toEqual([]);
      await request(app).get('/llm/admin/v1/health').expect(401); // the health routes want the admin key
      await request(app).get('/llm/v1/nope').expect(404);
      expect(walked).toEqual(['/admin/v1/health', '/v1/nope']);
      await router.close();
    } finally {
      methods.handle = original;
    }
  });

  it('answers a wrong method with an OpenAI-shaped 405', async () => {
    const { app, router } = buildApp({ providers: [provider(upstream.baseUrl)] });
    const res = await request(app).get('/llm/v1/chat/completions').expect(405);
    expect(res.body.error.code).toBe('method_not_allowed');
    await router.close();
  });

  it("leaves errors of the host's own routes to the host's error handler", async () => {
    const { app, router } = buildApp({ providers: [provider(upstream.baseUrl)] }, (host) => {
      host.get('/boom', () => {
        throw new Error('host bug');
      });
    });
    app.use((error: Error, _req: Request, res: Response, _next: NextFunction) => void res.status(418).send(error.message));
    await request(app).get('/boom').expect(418, 'host bug');
    await router.close();
  });
});
