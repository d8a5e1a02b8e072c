/** The request state: one per request, and the same one whichever copy of the library asks. */
import http from 'node:http';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { requestState } from '../../../lib/http/request-state.js';
import { dist, ensureDist } from '../../fixtures/ensure-dist.js';

const request = (headers: http.IncomingHttpHeaders = {}) => {
  const req = new http.IncomingMessage(null as never);
  req.headers = headers;
  return req;
};

describe('requestState', () => {
  it('gives one state per request, created on first use', () => {
    const a = request();
    const b = request();
    expect(requestState(a)).toBe(requestState(a));
    expect(requestState(a)).not.toBe(requestState(b));
    expect(requestState(a).requestId).not.toBe(requestState(b).requestId);
  });

  it('keeps the state under a registered symbol, out of the request’s string keys', () => {
    const req = request({ 'x-request-id': 'abc' });
    const keys = Object.keys(req);
    const state = requestState(req);
    expect(state.requestId).toBe('abc');
    expect(Object.keys(req)).toEqual(keys);
    expect((req as unknown as Record<symbol, unknown>)[Symbol.for('express-llm-proxy.request-state')]).toBe(state);
  });

  it('is shared with a second copy of the library (the built one)', async () => {
    ensureDist();
    const built = (await import(pathToFileURL(path.join(dist, 'http/request-state.js')).href)) as { requestState: typeof requestState };
    expect(built.requestState).not.toBe(requestState);
    const req = request();
    const state = requestState(req);
    expect(built.requestState(req)).toBe(state);
  });
});
