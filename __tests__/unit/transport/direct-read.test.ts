/** The default transport's body read directly (as the SSE pipe reads it), against a real upstream. */
import type { ChunkSink } from '../../../lib/transport/direct-read.js';
import { tryReadDirectly, tryTakeWhole } from '../../../lib/transport/direct-read.js';
import { readAll } from '../../../lib/transport/read-all.js';
import { readHead } from '../../../lib/transport/read-head.js';
import { AbortSource, requestWithSource } from '../../../lib/transport/abort-source.js';
import type { UpstreamRequest } from '../../../lib/transport/types.js';
import { createUndiciTransport } from '../../../lib/transport/undici-transport.js';
import { createFetchTransport } from '../../../lib/transport/fetch-transport.js';
import { floodingUpstream, sleep, useUpstream } from '../../kit/upstream.js';
import { waitFor } from '../../kit/stream-client.js';

const upstream = useUpstream();
const transport = createUndiciTransport();
afterAll(() => transport.close());

function post(source: AbortSource): UpstreamRequest {
  return requestWithSource({ url: `${upstream.origin}/v1/chat/completions`, method: 'POST', headers: {}, body: Buffer.from('{}') }, source);
}

/** A sink that records what it gets; `accept` decides what data() answers. */
function recordingSink(accept: () => boolean = () => true) {
  const got = { chunks: [] as string[], bytes: 0, ended: 0, errors: [] as unknown[] };
  const sink: ChunkSink = {
    data: (chunk) => {
      got.chunks.push(chunk.toString());
      got.bytes += chunk.length;
      return accept();
    },
    end: () => got.ended++,
    error: (error) => got.errors.push(error),
  };
  return { sink, got };
}

/** An upstream (SSE unless told) that writes `first` with its headers and the rest when released. */
function heldStream(first: string, rest: string, contentType = 'text/event-stream') {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  upstream.setHandler(async (_req, res) => {
    res.writeHead(200, { 'content-type': contentType });
    res.write(first);
    await released;
    res.end(rest);
  });
  return release;
}

describe('reading the default transport body directly', () => {
  it('hands over the chunks received before it attached at once, then each later one, then the end', async () => {
    const release = heldStream('data: 1\n\n', 'data: 2\n\n');
    const source = new AbortSource();
    const response = await transport(post(source));
    await sleep(50); // chunk 1 has most likely arrived, and nobody reads yet
    const { sink, got } = recordingSink();
    expect(tryReadDirectly(response.body, sink)).toBeDefined();
    await waitFor(() => got.chunks.length > 0, 2000, 'the first chunk'); // at once when it had arrived
    expect(got.chunks).toEqual(['data: 1\n\n']);
    release();
    await waitFor(() => got.ended > 0, 2000, 'the end');
    expect(got.chunks).toEqual(['data: 1\n\n', 'data: 2\n\n']);
    expect(got).toMatchObject({ ended: 1, errors: [] });
    expect(source.listenerCount('abort')).toBe(0);
  });

  it('ends at once when the whole body came before the reader', async () => {
    upstream.setHandler((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end('data: only\n\n');
    });
    const response = await transport(post(new AbortSource()));
    await sleep(50); // the body has most likely come whole
    const { sink, got } = recordingSink();
    tryReadDirectly(response.body, sink);
    await waitFor(() => got.ended > 0, 2000, 'the end'); // at once when it had come
    expect(got).toMatchObject({ chunks: ['data: only\n\n'], ended: 1 });
  });

  it('is refused once the body is read as a Readable, which then gets every byte', async () => {
    const release = heldStream('data: 1\n\n', 'data: 2\n\n');
    const response = await transport(post(new AbortSource()));
    const chunks: string[] = [];
    response.body.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
    await waitFor(() => chunks.length > 0, 2000, 'the first chunk');
    expect(tryReadDirectly(response.body, recordingSink().sink)).toBeUndefined();
    release();
    await new Promise((resolve) => response.body.once('end', resolve));
    expect(chunks.join('')).toBe('data: 1\n\ndata: 2\n\n');
  });

  it('pauses the upstream while data() answers false, until resume()', async () => {
    const total = 32 * 1024 * 1024;
    const flood = floodingUpstream(total, 'text/event-stream');
    upstream.setHandler(flood.handler);
    const response = await transport(post(new AbortSource()));
    let accepting = true; // what came before it attached is taken; what comes after is not
    const { sink, got } = recordingSink(() => accepting);
    const direct = tryReadDirectly(response.body, sink)!;
    accepting = false;
    await waitFor(() => flood.state.blocked, 5000, 'the upstream to meet backpressure');
    await sleep(100);
    // Only what was in flight when it paused: without backpressure all 32 MB would arrive here.
    expect(flood.state.blocked).toBe(true);
    expect(got.bytes).toBeLessThan(4 * 1024 * 1024);
    accepting = true;
    direct.resume();
    await waitFor(() => got.ended > 0, 10_000, 'the end');
    expect(got.bytes).toBe(total);
  });

  it('reports an abort as error() on a later tick, and closes the upstream request', async () => {
    heldStream('data: 1\n\n', '');
    const source = new AbortSource();
    const response = await transport(post(source));
    const { sink, got } = recordingSink();
    tryReadDirectly(response.body, sink);
    const reason = new Error('client left');
    source.abort(reason);
    expect(got.errors).toEqual([]); // not inside abort(), as a Readable's 'error' is not
    await sleep(0);
    expect(got.errors).toEqual([reason]);
    await upstream.socketClosed[0];
    expect(got.ended).toBe(0);
    expect(source.listenerCount('abort')).toBe(0);
  });

  it('aborts the upstream request when the body is destroyed', async () => {
    heldStream('data: 1\n\n', '');
    const response = await transport(post(new AbortSource()));
    tryReadDirectly(response.body, recordingSink().sink);
    response.body.destroy();
    await upstream.socketClosed[0];
  });

  it('reports an upstream that fails mid-body as error()', async () => {
    upstream.setHandler((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: 1\n\n');
      setTimeout(() => res.destroy(), 30);
    });
    const response = await transport(post(new AbortSource()));
    const { sink, got } = recordingSink();
    tryReadDirectly(response.body, sink);
    await waitFor(() => got.errors.length > 0, 2000, 'the error');
    expect(got.errors).toHaveLength(1);
    expect(got.errors[0]).toBeInstanceOf(Error);
    expect(got).toMatchObject({ chunks: ['data: 1\n\n'], ended: 0 });
  });

  it('is not offered by other bodies (a fetch transport), which stay plain Readables', async () => {
    heldStream('data: 1\n\n', 'data: 2\n\n')();
    const response = await createFetchTransport(fetch)(post(new AbortSource()));
    expect(tryReadDirectly(response.body, recordingSink().sink)).toBeUndefined();
    response.body.resume();
  });
});

describe('a body that fails before anyone reads it', () => {
  /** An upstream that sends its headers and a first chunk, then drops the connection. */
  function cutShort() {
    upstream.setHandler((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: 1\n\n', () => setTimeout(() => res.socket?.destroy(), 10));
    });
  }

  it('keeps the failure for a Readable reader that comes later, after the chunks that came before it', async () => {
    cutShort();
    const response = await transport(post(new AbortSource()));
    await upstream.socketClosed[0]; // the failure has most likely reached the body, and nobody reads yet
    await sleep(20);
    const chunks: string[] = [];
    const failed = new Promise<Error>((resolve) => response.body.once('error', resolve));
    response.body.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
    expect(await failed).toBeInstanceOf(Error);
    expect(chunks.join('')).toBe('data: 1\n\n');
  });

  it('keeps the failure for a direct reader that comes later, as error() on a later tick', async () => {
    cutShort();
    const response = await transport(post(new AbortSource()));
    await upstream.socketClosed[0];
    await sleep(20);
    const { sink, got } = recordingSink();
    expect(tryReadDirectly(response.body, sink)).toBeDefined();
    await waitFor(() => got.errors.length > 0, 2000, 'the error');
    expect(got.chunks.join('')).toBe('data: 1\n\n');
    expect(got.ended).toBe(0);
  });
});

describe('taking a default transport body whole', () => {
  const ANSWER = '{"id":"chatcmpl-1","choices":[]}';

  it('hands over every chunk of a body that has arrived whole, and lets go of the abort', async () => {
    upstream.setHandler((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(ANSWER.slice(0, 10));
      res.end(ANSWER.slice(10));
    });
    const source = new AbortSource();
    const response = await transport(post(source));
    await sleep(50); // the body has most likely come whole
    const chunks = tryTakeWhole(response.body, 1024);
    expect(Buffer.concat(chunks!).toString()).toBe(ANSWER);
    expect(source.listenerCount('abort')).toBe(0); // an abort from now on reaches nothing
    // Used up: a direct reader is refused, a Readable reader sees the end and no byte.
    expect(tryReadDirectly(response.body, recordingSink().sink)).toBeUndefined();
    const late: Buffer[] = [];
    response.body.on('data', (chunk: Buffer) => late.push(chunk));
    await new Promise((resolve) => response.body.once('end', resolve));
    expect(late).toEqual([]);
  });

  it('takes nothing from a body still arriving or larger than the bound; it then reads as before', async () => {
    const release = heldStream(ANSWER.slice(0, 10), ANSWER.slice(10), 'application/json');
    const response = await transport(post(new AbortSource()));
    await sleep(50); // the first part has most likely arrived
    expect(tryTakeWhole(response.body, 1024)).toBeUndefined(); // not whole yet
    release();
    await sleep(50); // now it has most likely come whole
    expect(tryTakeWhole(response.body, ANSWER.length - 1)).toBeUndefined(); // whole, but over the bound
    expect((await readAll(response.body, ANSWER.length)).toString()).toBe(ANSWER);
  });

  it("takes nothing from a body someone listens to (a wrapped transport's 'end'), which then comes", async () => {
    upstream.setHandler((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(ANSWER);
    });
    const response = await transport(post(new AbortSource()));
    await sleep(50);
    const ended = new Promise((resolve) => response.body.once('end', resolve));
    expect(tryTakeWhole(response.body, 1024)).toBeUndefined();
    expect((await readAll(response.body, 1024)).toString()).toBe(ANSWER);
    await ended;
  });

  it('lets readHead and readAll answer at once, without a promise, for a body that came whole', async () => {
    upstream.setHandler((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(ANSWER);
    });
    for (const read of [(body: Parameters<typeof readAll>[0]) => readAll(body, 1024), (body: Parameters<typeof readAll>[0]) => readHead(body, 1024)]) {
      const response = await transport(post(new AbortSource()));
      await sleep(50);
      const result = read(response.body);
      expect(result).not.toBeInstanceOf(Promise);
      const bytes = Buffer.isBuffer(result) ? result : (result as { bytes: Buffer }).bytes;
      expect(bytes.toString()).toBe(ANSWER);
    }
  });

  it('is not offered by other bodies (a fetch transport)', async () => {
    upstream.setHandler((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(ANSWER);
    });
    const response = await createFetchTransport(fetch)(post(new AbortSource()));
    await sleep(50);
    expect(tryTakeWhole(response.body, 1024)).toBeUndefined();
    expect((await readAll(response.body, 1024)).toString()).toBe(ANSWER);
  });
});
