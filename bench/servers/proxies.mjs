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
import { createLlmProxyRouter } from '../../dist/index.js';
import { MODEL, PATH } from '../constants.mjs';

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

function ours(upstream, options) {
  const app = express();
  app.use(
    createLlmProxyRouter({
      providers: [{ id: 1, key: 'mock', baseUrl: `${upstream}/v1`, models: { [MODEL]: MODEL } }],
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

/** name → { label, build(upstreamOrigin) → request listener }. The order is the table's. */
export const PROXIES = {
  'node-limit': {
    label: 'raw `node:http` pipe, no Express (the Node limit)',
    build: (upstream) => rawPipe(upstream),
  },
  floor: {
    label: 'Express 5 + raw `node:http` pipe (**the floor**)',
    build: (upstream) => express().post(PATH, rawPipe(upstream)),
  },
  hpm: {
    label: 'Express 5 + http-proxy-middleware 3.0.11',
    build: (upstream) => express().use(createProxyMiddleware({ target: upstream, agent: new http.Agent({ keepAlive: true }) })),
  },
  ours: {
    label: 'Express 5 + express-llm-proxy, undici transport (default), `logRequests: false`',
    build: (upstream) => ours(upstream, { logRequests: false }),
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
};
