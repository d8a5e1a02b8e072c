/** The request context: one per request, and the same one whichever copy of the library asks. */
import http from 'node:http';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { requestContext } from '../../../lib/http/request-state.js';
import { dist, ensureDist } from '../../fixtures/ensure-dist.js';

const request = (headers: http.IncomingHttpHeaders = {}) => {
  const req = new http.IncomingMessage(null as never);
  req.headers = headers;
  return req;
};

describe('requestContext', () => {
  it('gives one context per request, created on first use', () => {
    const a = request();
    const b = request();
    expect(requestContext(a)).toBe(requestContext(a));
    expect(requestContext(a)).not.toBe(requestContext(b));
    expect(requestContext(a).requestId).not.toBe(requestContext(b).requestId);
  });

  it('adds no property to the request', () => {
    const req = request({ 'x-request-id': 'abc' });
    const before = Reflect.ownKeys(req).length;
    expect(requestContext(req).requestId).toBe('abc');
    expect(Reflect.ownKeys(req)).toHaveLength(before);
  });

  it('is shared with a second copy of the library (the built one)', async () => {
    ensureDist();
    const built = (await import(pathToFileURL(path.join(dist, 'http/request-state.js')).href)) as { requestContext: typeof requestContext };
    expect(built.requestContext).not.toBe(requestContext);
    const req = request();
    const context = requestContext(req);
    expect(built.requestContext(req)).toBe(context);
  });
});
