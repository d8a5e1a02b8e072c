/** The default transport against a real upstream: its own dispatch handler, aborts and backpressure. */
import type { Readable } from 'node:stream';
import { Agent, MockAgent } from 'undici';
import { InvalidOptionError } from '../../../lib/errors/errors.js';
import { AbortSource, requestWithSource } from '../../../lib/transport/abort-source.js';
import type { UpstreamRequest } from '../../../lib/transport/types.js';
import { createUndiciTransport } from '../../../lib/transport/undici-transport.js';
import { floodingUpstream, refusedPort, sleep, useUpstream } from '../../kit/upstream.js';

const upstream = useUpstream();
const transport = createUndiciTransport();
afterAll(() => transport.close());

function post(source: AbortSource, url = `${upstream.origin}/v1/chat/completions`): UpstreamRequest {
  return requestWithSource({ url, method: 'POST', headers: { 'content-type': 'application/json' }, body: Buffer.from('{"model":"m"}') }, source);
}

function readText(body: Readable): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    body.setEncoding('utf8');
    body.on('data', (chunk: string) => (text += chunk));
    body.on('end', () => resolve(text));
    body.on('error', reject);
  });
}

/** Resolves with the error a stream emits. */
const errorOf = (body: Readable) => new Promise<Error>((resolve) => body.once('error', resolve));

describe('createUndiciTransport', () => {
  it('sends method, path, headers and body, and answers with status, lower-case headers and the body', async () => {
    upstream.setHandler((_req, res) => {
      res.writeHead(201, { 'Content-Type': 'application/json', 'X-Multi': ['a', 'b'] });
      res.end('{"ok":true}');
    });
    const response = await transport(post(new AbortSource()));
    expect(response.status).toBe(201);
    expect(response.headers['content-type']).toBe('application/json');
    expect(response.headers['x-multi']).toEqual(['a', 'b']);
    expect(await readText(response.body)).toBe('{"ok":true}');
    expect(upstream.requests[0]).toMatchObject({ method: 'POST', url: '/v1/chat/completions', body: '{"model":"m"}' });
    expect(upstream.requests[0].headers['content-type']).toBe('application/json');
  });

  it('resolves at the headers and hands out each chunk as it arrives', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    upstream.setHandler(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: 1\n\n');
      await released;
      res.end('data: 2\n\n');
    });
    const response = await transport(post(new AbortSource()));
    const first = await new Promise<string>((resolve) => response.body.once('data', (chunk: Buffer) => resolve(chunk.toString())));
    expect(first).toBe('data: 1\n\n');
    const rest = readText(response.body);
    release();
    expect(await rest).toBe('data: 2\n\n');
  });

  it('skips a 1xx interim answer and resolves with the final one', async () => {
    upstream.setHandler((_req, res) => {
      res.writeEarlyHints({ link: '</x>; rel=preload' });
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('final');
    });
    const response = await transport(post(new AbortSource()));
    expect(response.status).toBe(200);
    expect(await readText(response.body)).toBe('final');
  });

  it('rejects at once, sending nothing, when the source is already aborted', async () => {
    const source = new AbortSource();
    const reason = new Error('gone before');
    source.abort(reason);
    await expect(transport(post(source))).rejects.toBe(reason);
    await sleep(20);
    expect(upstream.requests).toHaveLength(0);
  });

  it('rejects with the abort reason while waiting for headers, and closes the upstream request', async () => {
    upstream.setHandler(() => undefined); // never answers
    const source = new AbortSource();
    const pending = transport(post(source));
    await new Promise<void>((resolve) => {
      const wait = () => (upstream.requests.length > 0 ? resolve() : setTimeout(wait, 5));
      wait();
    });
    const reason = new Error('deadline');
    source.abort(reason);
    await expect(pending).rejects.toBe(reason);
    await upstream.socketClosed[0];
  });

  // undici starts a queued request only when a socket takes it; the abort must not wait for that.
  it.each([
    ['its own agent (connections: 1)', () => createUndiciTransport({ connections: 1 })],
    ['a dispatcher passed in, through its request()', () => {
      const agent = new Agent({ connections: 1 });
      return Object.assign(createUndiciTransport({ dispatcher: agent }), { close: () => agent.close() });
    }],
  ])('rejects a request still queued behind a busy connection as soon as it is aborted: %s', async (_name, make) => {
    const queued = make();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    upstream.setHandler(async (_req, res) => {
      await held;
      res.end('{}');
    });
    try {
      const first = queued(post(new AbortSource()));
      await new Promise<void>((resolve) => {
        const wait = () => (upstream.requests.length > 0 ? resolve() : setTimeout(wait, 5));
        wait();
      });
      const source = new AbortSource();
      const second = queued(post(source)).then(
        () => 'answered',
        (error: Error) => error.message,
      );
      source.abort(new Error('deadline'));
      // Settled while the first request still holds the only connection.
      expect(await second).toBe('deadline');
      release();
      await readText((await first).body);
      expect(upstream.requests).toHaveLength(1); // the aborted one never went out
    } finally {
      release();
      await queued.close();
    }
  });

  it('errors the body with the abort reason after the headers, and stops listening once the body is over', async () => {
    upstream.setHandler((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: 1\n\n');
    });
    const source = new AbortSource();
    const response = await transport(post(source));
    const failed = errorOf(response.body);
    const reason = new Error('client left');
    source.abort(reason);
    expect(await failed).toBe(reason);
    await upstream.socketClosed[0];
    expect(source.listenerCount('abort')).toBe(0);
  });

  it('leaves no abort listener behind after a complete answer', async () => {
    const source = new AbortSource();
    const response = await transport(post(source));
    await readText(response.body);
    await sleep(0);
    expect(source.listenerCount('abort')).toBe(0);
  });

  it('aborts the upstream request when the body is destroyed before its end', async () => {
    upstream.setHandler((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: 1\n\n');
    });
    const response = await transport(post(new AbortSource()));
    response.body.on('error', () => undefined);
    response.body.destroy();
    await upstream.socketClosed[0];
  });

  it('takes a caller-made AbortSignal as well', async () => {
    upstream.setHandler(() => undefined);
    const controller = new AbortController();
    const request: UpstreamRequest = { url: `${upstream.origin}/v1/x`, method: 'POST', headers: {}, body: Buffer.from('{}'), signal: controller.signal };
    const pending = transport(request);
    await sleep(30);
    controller.abort(new Error('caller abort'));
    await expect(pending).rejects.toThrow('caller abort');
  });

  it('stops reading the upstream while the body is not read (backpressure)', async () => {
    const flood = floodingUpstream(32 * 1024 * 1024, 'application/octet-stream');
    upstream.setHandler(flood.handler);
    const response = await transport(post(new AbortSource()));
    response.body.pause();
    await sleep(200);
    // The socket buffers hold a few MB at most; without backpressure all 32 MB would be queued here.
    expect(flood.state.blocked).toBe(true);
    expect(response.body.readableLength).toBeLessThan(1024 * 1024);
    let received = 0;
    response.body.on('data', (chunk: Buffer) => (received += chunk.length));
    response.body.resume();
    await new Promise((resolve) => response.body.once('end', resolve));
    expect(received).toBe(32 * 1024 * 1024);
  });

  it('rejects with the connection error when nothing listens', async () => {
    const port = await refusedPort();
    await expect(transport(post(new AbortSource(), `http://127.0.0.1:${port}/v1/x`))).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('drives a dispatcher passed in through its own request(), as one from another undici major needs, and leaves it open', async () => {
    const dispatcher = new Agent();
    const handlers: Record<string, unknown>[] = [];
    // Stands in for an undici 6 dispatcher: it knows only the handler methods of that API.
    const foreign = Object.assign(Object.create(dispatcher) as Agent, {
      dispatch: (options: Parameters<Agent['dispatch']>[0], handler: Parameters<Agent['dispatch']>[1]) => {
        handlers.push(handler as unknown as Record<string, unknown>);
        return dispatcher.dispatch(options, handler);
      },
    });
    const own = createUndiciTransport({ dispatcher: foreign });
    const response = await own(post(new AbortSource()));
    expect(await readText(response.body)).toContain('chatcmpl-test');
    expect(handlers).toHaveLength(1);
    expect(typeof handlers[0].onHeaders).toBe('function');
    expect(handlers[0].onResponseStart).toBeUndefined();

    upstream.setHandler(() => undefined);
    const source = new AbortSource();
    const pending = own(post(source));
    await sleep(30);
    const reason = new Error('aborted through request()');
    source.abort(reason);
    await expect(pending).rejects.toBe(reason);

    await own.close();
    expect(dispatcher.closed).toBe(false);
    await dispatcher.close();
  });

  it("works with undici's MockAgent as the dispatcher", async () => {
    const mock = new MockAgent();
    mock.disableNetConnect();
    mock.get('http://mock.test').intercept({ path: '/v1/chat/completions', method: 'POST' }).reply(418, 'short and stout', { headers: { 'x-pot': 'tea' } });
    const mocked = createUndiciTransport({ dispatcher: mock });
    const response = await mocked(post(new AbortSource(), 'http://mock.test/v1/chat/completions'));
    expect(response.status).toBe(418);
    expect(response.headers['x-pot']).toBe('tea');
    expect(await readText(response.body)).toBe('short and stout');
    await mock.close();
  });

  it.each([
    ['connections', { connections: 0 }],
    ['connections', { connections: 2.5 }],
    ['keepAliveTimeoutMs', { keepAliveTimeoutMs: 0 }],
    ['keepAliveTimeoutMs', { keepAliveTimeoutMs: Number.NaN }],
    ['dispatcher', { dispatcher: {} }],
    ['dispatcher', { dispatcher: null }],
  ])('refuses a bad %s at construction, naming it', (option, options) => {
    let thrown: unknown;
    try {
      createUndiciTransport(options as Parameters<typeof createUndiciTransport>[0]);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InvalidOptionError);
    expect((thrown as InvalidOptionError).option).toBe(option);
    expect((thrown as Error).message).toContain(`\`${option}\``);
  });

  it('takes good connections and keepAliveTimeoutMs for its own agent', async () => {
    const tuned = createUndiciTransport({ connections: 2, keepAliveTimeoutMs: 1000 });
    const response = await tuned(post(new AbortSource()));
    expect(response.status).toBe(200);
    await readText(response.body);
    await tuned.close();
  });
});
