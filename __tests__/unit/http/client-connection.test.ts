/** One close watcher per response: listeners, a finished answer is no departure, and the wait. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ClientConnection } from '../../../lib/http/client-connection.js';
import { waitFor } from '../../kit/client.js';

async function withServer(handler: (res: http.ServerResponse, connection: ClientConnection) => void) {
  const server = http.createServer((req, res) => {
    req.resume();
    handler(res, new ClientConnection(res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return { url, close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))) };
}

describe('ClientConnection', () => {
  it('tells every subscriber once when the client leaves early, and none that unsubscribed', async () => {
    const heard: string[] = [];
    let watched: ClientConnection | undefined;
    const server = await withServer((_res, connection) => {
      watched = connection;
      connection.onGone(() => heard.push('a'));
      const stop = connection.onGone(() => heard.push('b'));
      connection.onGone(() => heard.push('c'));
      stop();
    });
    const req = http.request(server.url, { method: 'POST' });
    req.on('error', () => {});
    req.write('x');
    expect(await waitFor(() => watched !== undefined)).toBe(true);
    req.destroy();
    expect(await waitFor(() => heard.length === 2)).toBe(true);
    expect(heard).toEqual(['a', 'c']);
    expect(watched!.gone).toBe(true);
    const late: string[] = [];
    watched!.onGone(() => late.push('late')); // after it left: at once
    expect(late).toEqual(['late']);
    expect(await watched!.wait(10_000)).toBe(false); // and a wait ends at once
    await server.close();
  });

  it('runs the end listener once the response closed and every hold is released, with the close time', async () => {
    const events: string[] = [];
    let watched: ClientConnection | undefined;
    let closedAt = 0;
    const server = await withServer((res, connection) => {
      watched = connection;
      connection.hold();
      connection.hold();
      connection.onEnd((at) => {
        closedAt = at;
        events.push('end');
      });
      res.end('ok');
    });
    const text = await (await fetch(server.url, { method: 'POST', body: 'x' })).text();
    expect(text).toBe('ok');
    expect(await waitFor(() => watched !== undefined && closedAt === 0)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 20)); // closed by now, but held twice
    expect(events).toEqual([]);
    const before = performance.now();
    watched!.release();
    expect(events).toEqual([]);
    watched!.release();
    expect(events).toEqual(['end']);
    expect(closedAt).toBeGreaterThan(0);
    expect(closedAt).toBeLessThan(before); // when it closed, not when it was released
    watched!.hold();
    watched!.release();
    expect(events).toEqual(['end']); // once
    await server.close();
  });

  it('runs the end listener at close when nothing holds it, and at once for one set after', async () => {
    const events: string[] = [];
    let watched: ClientConnection | undefined;
    const server = await withServer((res, connection) => {
      watched = connection;
      connection.onEnd(() => events.push('end'));
      res.end('ok');
    });
    await (await fetch(server.url, { method: 'POST', body: 'x' })).text();
    expect(await waitFor(() => events.length === 1)).toBe(true);
    watched!.onEnd(() => events.push('late'));
    expect(events).toEqual(['end', 'late']);
    await server.close();
  });

  it('does not call a response that finished normally a departure', async () => {
    let watched: ClientConnection | undefined;
    const heard: string[] = [];
    const server = await withServer((res, connection) => {
      watched = connection;
      connection.onGone(() => heard.push('gone'));
      res.end('done');
    });
    const res = await fetch(server.url, { method: 'POST', body: 'x', headers: { connection: 'close' } });
    expect(await res.text()).toBe('done');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(watched!.gone).toBe(false);
    expect(heard).toEqual([]);
    await server.close();
  });

  it('wait() resolves true after the time when the client stays, false as soon as it leaves', async () => {
    let watched: ClientConnection | undefined;
    const server = await withServer((_res, connection) => {
      watched = connection;
    });
    const req = http.request(server.url, { method: 'POST' });
    req.on('error', () => {});
    req.write('x');
    expect(await waitFor(() => watched !== undefined)).toBe(true);
    expect(await watched!.wait(20)).toBe(true);
    const waiting = watched!.wait(60_000);
    req.destroy();
    expect(await waiting).toBe(false);
    await server.close();
  });
});
