/**
 * The proxies under test, each a request listener built for one upstream origin. Every one keeps
 * its upstream sockets alive, so the comparison is of the code in between, not of TCP handshakes.
 */
import http from 'node:http';
import { Writable } from 'node:stream';
import express from 'express';
import { createProxyMiddleware } from 'http-proxy-middleware';
import nodeFetch from 'node-fetch';
import { Registry } from 'prom-client';
import winston from 'winston';
import { createLlmProxyRouter, createUndiciTransport, pipeSse } from '../../dist/index.js';
import { createRedisStore } from '../../dist/redis/index.js';
import { MESSAGES_PATH, MODEL, PATH, RESPONSES_PATH } from '../constants.mjs';

/** The few lines anyone would write: pipe the request up, pipe the answer back. */
function rawPipe(upstream) {
  const { hostname, port } = new URL(upstream);
  const agent = new http.Agent({ keepAlive: true });
  return (req, res) => {
    const up = http.request({ host: hostname, port, path: req.url, method: req.method, headers: req.headers, agent }, (upRes) => {
      res.writeHead(upRes.statusCode, upRes.headers);
      upRes.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  };
}

/**
 * The library's pieces without the router: its default transport and its SSE pipe, mounted by hand
 * (the body read whole, sent on with a provider's headers, the answer passed back). What the router
 * costs beyond this row is its own work: model routing, failover, clocks, headers, request state.
 */
function pieces(upstream) {
  const transport = createUndiciTransport();
  return (req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      const headers = { 'content-type': 'application/json', authorization: 'Bearer mock' };
      transport({ url: `${upstream}${req.url}`, method: 'POST', headers, body: Buffer.concat(chunks) }).then(
        (answer) => {
          if (String(answer.headers['content-type']).startsWith('text/event-stream')) {
            res.statusCode = answer.status;
            pipeSse(answer.body, res);
          } else {
            res.writeHead(answer.status, answer.headers);
            answer.body.pipe(res);
          }
        },
        () => res.destroy(),
      );
    });
  };
}

function ours(upstream, options) {
  const app = express();
  app.use(
    createLlmProxyRouter({
      // The same mock behind an OpenAI provider (chat, responses) and an Anthropic one (messages).
      providers: [
        { id: 1, key: 'mock', baseUrl: `${upstream}/v1`, models: { [MODEL]: MODEL } },
        { id: 2, key: 'mock-anthropic', type: 'anthropic', baseUrl: `${upstream}/v1`, models: { [MODEL]: MODEL } },
      ],
      ...options,
    }),
  );
  return app;
}

/** winston as the default logger builds it (timestamp + JSON), writing to a sink that drops everything. */
function nullLogger() {
  const sink = new Writable({
    write(_chunk, _encoding, callback) {
      callback();
    },
  });
  return winston.createLogger({
    level: 'info',
    format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
    transports: [new winston.transports.Stream({ stream: sink })],
  });
}

/** A Redis store on the bench's own redis-server (BENCH_REDIS_URL, set by bench/index.mjs). */
async function redisStore() {
  const { createClient } = await import('redis');
  const client = createClient({ url: process.env.BENCH_REDIS_URL });
  client.on('error', () => {});
  await client.connect();
  const store = createRedisStore({ client, prefix: `bench-${process.pid}:` });
  await store.ready;
  return store;
}

/** The router's default logger until the fifth session: winston, timestamp + json, to the console. */
function winstonConsole() {
  return winston.createLogger({
    level: 'info',
    format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
    transports: [new winston.transports.Console()],
  });
}

/** One JSON.stringify per entry, handed to winston's Console transport without the logger's pipeline. */
function lineThroughTransport() {
  const transport = new winston.transports.Console();
  const MESSAGE = Symbol.for('message');
  const LEVEL = Symbol.for('level');
  const done = () => {};
  return {
    log(level, message, meta) {
      const info = { timestamp: new Date().toISOString(), level, message, ...meta };
      info[MESSAGE] = JSON.stringify(info);
      info[LEVEL] = level;
      transport.log(info, done);
    },
  };
}

/**
 * name → { label, build(upstreamOrigin) → request listener (or a promise of one), redis? }. The
 * order is the table's; `redis: true` rows need the bench's redis-server.
 */
export const PROXIES = {
  'node-limit': {
    label: 'raw `node:http` pipe, no Express (the Node limit)',
    build: (upstream) => rawPipe(upstream),
  },
  floor: {
    label: 'Express 5 + raw `node:http` pipe (**the floor**)',
    build: (upstream) => express().post([PATH, MESSAGES_PATH, RESPONSES_PATH], rawPipe(upstream)),
  },
  hpm: {
    label: 'Express 5 + http-proxy-middleware 3.0.11',
    build: (upstream) => express().use(createProxyMiddleware({ target: upstream, agent: new http.Agent({ keepAlive: true }) })),
  },
  pieces: {
    label: 'Express 5 + the library\'s undici transport and SSE pipe alone, no router',
    build: (upstream) => express().post([PATH, MESSAGES_PATH, RESPONSES_PATH], pieces(upstream)),
  },
  ours: {
    label: 'Express 5 + express-llm-proxy, undici transport (default), `logRequests: false`',
    build: (upstream) => ours(upstream, { logRequests: false }),
  },
  'ours-defaults': {
    label: 'Express 5 + express-llm-proxy with its defaults: request log on, the default logger (JSON lines to stdout, here /dev/null)',
    build: (upstream) => ours(upstream, {}),
  },
  'ours-winston-stdout': {
    label: 'express-llm-proxy, request log through winston (timestamp + json formats, Console transport) to stdout (/dev/null)',
    build: (upstream) => ours(upstream, { logger: winstonConsole() }),
  },
  'ours-line-transport': {
    label: 'express-llm-proxy, request log as a direct JSON line through the same winston Console transport, to stdout (/dev/null)',
    build: (upstream) => ours(upstream, { logger: lineThroughTransport() }),
  },
  'ours-log': {
    label: 'Express 5 + express-llm-proxy, undici transport, request logging on (winston JSON → null stream)',
    build: (upstream) => ours(upstream, { logRequests: true, logger: nullLogger() }),
  },
  'ours-metrics': {
    label: 'Express 5 + express-llm-proxy, undici transport, Prometheus metrics (own Registry) and `usage.includeInStreams`, `logRequests: false`',
    build: (upstream) => ours(upstream, { logRequests: false, metrics: { registry: new Registry() }, usage: { includeInStreams: true } }),
  },
  'ours-node-fetch': {
    label: 'Express 5 + express-llm-proxy, `fetch: nodeFetch` (node-fetch 3), `logRequests: false`',
    build: (upstream) => ours(upstream, { logRequests: false, fetch: nodeFetch }),
  },
  'ours-redis': {
    label: 'Express 5 + express-llm-proxy, `store: createRedisStore()` on a local redis-server, no limits, `logRequests: false`',
    redis: true,
    build: async (upstream) => ours(upstream, { logRequests: false, store: await redisStore() }),
  },
  'ours-redis-limit': {
    label: 'Express 5 + express-llm-proxy, Redis store, `limits: { requestsPerMinute }` (never reached; one `hit` per request), `logRequests: false`',
    redis: true,
    build: async (upstream) => ours(upstream, { logRequests: false, store: await redisStore(), limits: { requestsPerMinute: 1_000_000_000 } }),
  },
};
