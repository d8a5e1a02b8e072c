/** A real upstream HTTP server on 127.0.0.1:0 for tests, recording what reaches it. */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface RecordedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  json: Record<string, unknown> | undefined;
}

export type UpstreamHandler = (req: http.IncomingMessage, res: http.ServerResponse, request: RecordedRequest) => void | Promise<void>;

export interface TestUpstream {
  /** `http://127.0.0.1:<port>/v1`, to use as a provider's baseUrl. */
  baseUrl: string;
  origin: string;
  port: number;
  requests: RecordedRequest[];
  /** Sockets currently open to this server. */
  openSockets(): number;
  /** Resolves when a request's socket closes (the proxy aborted or finished). */
  socketClosed: Promise<void>[];
  setHandler(handler: UpstreamHandler): void;
  close(): Promise<void>;
}

export async function startUpstream(handler: UpstreamHandler): Promise<TestUpstream> {
  let current = handler;
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const socketClosed: Promise<void>[] = [];
  const closedOf = new WeakMap<Socket, Promise<void>>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: Record<string, unknown> | undefined;
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
      const recorded = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body, json };
      requests.push(recorded);
      socketClosed.push(closedOf.get(req.socket)!);
      Promise.resolve(current(req, res, recorded)).catch((error) => {
        res.destroy(error as Error);
      });
    });
  });
  server.on('connection', (socket) => {
    // One close listener per socket, however many keep-alive requests it carries.
    closedOf.set(socket, new Promise((resolve) => socket.once('close', () => resolve())));
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  return {
    baseUrl: `${origin}/v1`,
    origin,
    port,
    requests,
    socketClosed,
    openSockets: () => sockets.size,
    setHandler(next) {
      current = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A port nothing listens on (bound, then closed). */
export async function refusedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A deterministic chat completion body, as OpenAI shapes it. */
export function completion(model: string, content = 'Hello from the mock upstream') {
  return {
    id: 'chatcmpl-test',
    object: 'chat.completion',
    created: 1700000000,
    model,
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 5, completion_tokens: 6, total_tokens: 11 },
  };
}

/** One SSE chunk of a streamed chat completion. */
export function chunkEvent(model: string, content: string, finish: string | null = null): string {
  return `data: ${JSON.stringify({ id: 'chatcmpl-test', object: 'chat.completion.chunk', created: 1700000000, model, choices: [{ index: 0, delta: { content }, finish_reason: finish }] })}\n\n`;
}

/** Answers JSON like an OpenAI-compatible API; echoes the upstream model name. */
export const okJson: UpstreamHandler = (_req, res, request) => {
  const body = JSON.stringify(completion(String(request.json?.model)));
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
};

/**
 * One upstream for the calling test file: started before all tests, reset to `handler` with no
 * recorded requests before each, closed after all. The returned object forwards to it.
 */
export function useUpstream(handler: UpstreamHandler = okJson): TestUpstream {
  let started: TestUpstream | undefined;
  beforeAll(async () => {
    started = await startUpstream(handler);
  });
  afterAll(() => started?.close());
  beforeEach(() => {
    started!.requests.length = 0;
    started!.socketClosed.length = 0;
    started!.setHandler(handler);
  });
  return new Proxy({} as TestUpstream, {
    get: (_target, key) => {
      if (!started) throw new Error('useUpstream(): the upstream starts in beforeAll; use it inside tests');
      return Reflect.get(started, key);
    },
  });
}

/**
 * An upstream handler that writes `total` bytes in 64 KB pieces as fast as the socket takes them;
 * `blocked` turns true once a write had to wait for 'drain', i.e. the proxy applied backpressure.
 */
export function floodingUpstream(total: number, contentType: string): { handler: UpstreamHandler; state: { written: number; blocked: boolean } } {
  const piece = Buffer.alloc(64 * 1024, 'x');
  const state = { written: 0, blocked: false };
  const handler: UpstreamHandler = (_req, res) => {
    res.writeHead(200, { 'content-type': contentType });
    const pump = () => {
      while (state.written < total) {
        state.written += piece.length;
        if (!res.write(piece)) {
          state.blocked = true;
          res.once('drain', pump);
          return;
        }
      }
      res.end();
    };
    pump();
  };
  return { handler, state };
}
