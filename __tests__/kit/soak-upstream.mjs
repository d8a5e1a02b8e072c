// The soak run's upstream: a node:http server on 127.0.0.1:0 whose answer a request picks with a
// body field `fault`, and which knows how many of its sockets are open and how many are busy.
import http from 'node:http';

const completion = (model) =>
  JSON.stringify({
    id: 'chatcmpl-soak',
    object: 'chat.completion',
    created: 1700000000,
    model,
    choices: [{ index: 0, message: { role: 'assistant', content: 'soak' }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
  });
const chunk = (model, content) =>
  `data: ${JSON.stringify({ id: 'chatcmpl-soak', object: 'chat.completion.chunk', created: 1700000000, model, choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`;

/** Writes `count` SSE chunks `gapMs` apart, stopping when the proxy goes away. */
function stream(res, model, count, gapMs) {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  let sent = 0;
  const timer = setInterval(() => {
    if (sent === count) {
      clearInterval(timer);
      res.end('data: [DONE]\n\n');
      return;
    }
    res.write(chunk(model, `t${sent++}`));
  }, gapMs);
  res.on('close', () => clearInterval(timer));
}

const ANSWERS = {
  ok: (req, res, model) => {
    const body = completion(model);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  },
  stream: (req, res, model) => stream(res, model, 5, 1),
  'slow-stream': (req, res, model) => stream(res, model, 20, 20),
  error500: (req, res) => {
    res.writeHead(500, { 'content-type': 'application/json' });
    res.end('{"error":{"message":"upstream broke","type":"server_error","param":null,"code":null}}');
  },
  reset: (req, res, model) => {
    const body = completion(model);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.write(body.slice(0, 20));
    setTimeout(() => req.socket.destroy(), 2);
  },
  'reset-stream': (req, res, model) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(chunk(model, 'a'));
    setTimeout(() => req.socket.destroy(), 2);
  },
  hang: () => {},
};

export async function startSoakUpstream() {
  const sockets = new Set();
  const busy = new Set();
  const server = http.createServer((req, res) => {
    busy.add(req.socket);
    res.on('close', () => busy.delete(req.socket));
    const chunks = [];
    req.on('data', (data) => chunks.push(data));
    req.on('end', () => {
      let json = {};
      try {
        json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        // answer as ok
      }
      (ANSWERS[json.fault] ?? ANSWERS.ok)(req, res, String(json.model));
    });
  });
  server.keepAliveTimeout = 60_000;
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${server.address().port}`;
  return {
    baseUrl: `${origin}/v1`,
    origin,
    open: () => sockets.size,
    busy: () => busy.size,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
