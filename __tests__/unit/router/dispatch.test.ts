import express from 'express';
import type { RequestHandler } from 'express';
import request from 'supertest';
import { chain, pathOf, routes } from '../../../lib/router/dispatch.js';

const says =
  (text: string): RequestHandler =>
  (req, res) => {
    res.type('text').send(`${text} ${req.method}`);
  };

function app() {
  const host = express();
  const router = express.Router();
  router.use(routes({ '/v1/things': { methods: { GET: says('list'), POST: says('make') }, otherwise: says('405') } }));
  router.get('/v1/things/:id', (req, res) => {
    res.send(`one ${req.params.id}`);
  });
  host.use('/api', router);
  host.use((req, res) => {
    res.status(404).send('host 404');
  });
  return host;
}

describe('routes', () => {
  it('serves its paths by method, as Express routes would', async () => {
    expect((await request(app()).get('/api/v1/things')).text).toBe('list GET');
    expect((await request(app()).post('/api/v1/things')).text).toBe('make POST');
    expect((await request(app()).delete('/api/v1/things')).text).toBe('405 DELETE');
  });

  it('answers HEAD with the GET handler', async () => {
    const res = await request(app()).head('/api/v1/things');
    expect(res.status).toBe(200);
    expect(res.headers['content-length']).toBe(String('list HEAD'.length));
  });

  it.each(['/api/v1/things/', '/api/V1/Things', '/api/v1/things?limit=2', '/api/v1/things/?x=/y'])('matches %s like Express does', async (path) => {
    expect((await request(app()).get(path)).text).toBe('list GET');
  });

  it('passes any other path on to the next layer and the host', async () => {
    expect((await request(app()).get('/api/v1/things/42')).text).toBe('one 42');
    expect((await request(app()).get('/api/v1/thingsx')).status).toBe(404);
    expect((await request(app()).get('/api/v1/things//')).text).toBe('host 404');
  });
});

describe('pathOf', () => {
  it.each([
    ['/v1/things', '/v1/things'],
    ['/v1/things/?a=b', '/v1/things'],
    ['http://host/v1/things', '/v1/things'],
    ['https://user@host:8443/v1/things/?x=http://other/y', '/v1/things'],
    ['HTTP://HOST/v1/things', '/v1/things'],
    ['http://host', '/'],
    ['http://host?x=/y', '/'],
    ['*', '*'],
  ])('%s matches as %s', (url, path) => {
    expect(pathOf(url)).toBe(path);
  });
});

describe('chain', () => {
  it('runs handlers in order and stops at an error', async () => {
    const seen: string[] = [];
    const step =
      (name: string, fail = false): RequestHandler =>
      (_req, _res, next) => {
        seen.push(name);
        next(fail ? new Error(name) : undefined);
      };
    const host = express();
    host.use(chain([step('a'), step('b', true), step('c')]));
    host.use((error: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(500).send(error.message);
    });
    const res = await request(host).get('/');
    expect(res.text).toBe('b');
    expect(seen).toEqual(['a', 'b']);
  });

  it('turns a throwing handler into next(error)', async () => {
    const host = express();
    host.use(
      chain([
        () => {
          throw new Error('thrown');
        },
        says('never'),
      ]),
    );
    host.use((error: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(500).send(error.message);
    });
    expect((await request(host).get('/')).text).toBe('thrown');
  });
});
