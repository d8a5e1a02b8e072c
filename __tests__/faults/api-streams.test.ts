/**
 * Messages and Responses streams through the router: bytes passed through unchanged (ping and
 * unknown events too, no `[DONE]` added), the proxy's own errors after the headers in each API's
 * framing (Responses error events numbered after the last forwarded event, however the upstream
 * cut its chunks), upstream error events counted against the provider's breaker, and the
 * bookkeeping of which provider holds a response.
 */
import type http from 'node:http';
import { buildApp, listen } from '../kit/app.js';
import { postJson, send } from '../kit/client.js';
import { messagesUpstream } from '../kit/messages-upstream.js';
import { responsesUpstream } from '../kit/responses-upstream.js';
import { closeAfterEach, expectSseHeaders, timedPost, waitFor } from '../kit/stream-client.js';
import type { TestUpstream, UpstreamHandler } from '../kit/upstream.js';
import { sleep, startUpstream } from '../kit/upstream.js';
import { failOnUnhandledErrors } from '../kit/unhandled.js';
import type { LlmProxyOptions, ProviderConfig } from '../../lib/index.js';

failOnUnhandledErrors();
const track = closeAfterEach();

const MESSAGE = { model: 'm', max_tokens: 16, stream: true, messages: [{ role: 'user', content: 'hi' }] };
const RESPONSE = { model: 'm', input: 'hi', stream: true };

async function upstreamOf(handler: UpstreamHandler): Promise<TestUpstream> {
  const upstream = await startUpstream(handler);
  track(() => upstream.close());
  return upstream;
}

const providerOf = (upstream: TestUpstream, key: string, type: 'openai' | 'anthropic'): ProviderConfig => ({ id: key, key, type, baseUrl: upstream.baseUrl, models: { m: 'm-upstream' } });

async function proxy(providers: ProviderConfig[], options: Partial<LlmProxyOptions> = {}) {
  const built = buildApp({ providers, heartbeatMs: 0, ...options });
  const server = await listen(built.app);
  track(async () => {
    await server.close();
    await built.router.close();
  });
  return { ...built, url: `${server.url}/llm` };
}

function sseHead(res: http.ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  res.flushHeaders();
}

/** Writes `text` in pieces of `size` bytes, one macrotask apart, then stops (or ends). */
async function writeInPieces(res: http.ServerResponse, text: string, size: number, end: boolean): Promise<void> {
  const bytes = Buffer.from(text);
  for (let at = 0; at < bytes.length; at += size) {
    res.write(bytes.subarray(at, at + size));
    await new Promise((resolve) => setImmediate(resolve));
  }
  if (end) res.end();
}

const responsesEvent = (n: number, type = 'response.output_text.delta') => `event: ${type}\ndata: {"type":"${type}","delta":"w${n} ","sequence_number":${n}}\n\n`;

describe('Messages streams', () => {
  it('pass the upstream bytes through unchanged: ping, an unknown event type, no [DONE] added', async () => {
    const body =
      'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_1","usage":{"input_tokens":3,"output_tokens":1}}}\n\n' +
      'event: ping\ndata: {"type":"ping"}\n\n' +
      'event: future_event\ndata: {"type":"future_event"}\n\n' +
      'event: content_block_delta\r\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"event: error"}}\r\n\r\n' +
      'event: message_stop\ndata: {"type":"message_stop"}\n\n';
    const upstream = await upstreamOf(async (_req, res) => {
      sseHead(res);
      await writeInPieces(res, body, 7, true);
    });
    const app = await proxy([providerOf(upstream, 'c', 'anthropic')]);
    const client = timedPost(`${app.url}/v1/messages`, MESSAGE);
    expectSseHeaders(await client.headers);
    expect(await client.done).toBe(body);
    await waitFor(() => app.entries.length === 1);
    expect(app.entries[0].stream_error).toBeUndefined(); // "event: error" inside a text delta is text
  });

  it('a TTFT timeout after the headers is an Anthropic error event (timeout_error), then the end', async () => {
    const upstream = await upstreamOf((_req, res) => sseHead(res));
    const app = await proxy([providerOf(upstream, 'c', 'anthropic')], { timeouts: { ttftMs: 150 } });
    const client = timedPost(`${app.url}/v1/messages`, MESSAGE);
    expect(await client.done).toBe('event: error\ndata: {"type":"error","error":{"type":"timeout_error","message":"The upstream provider sent no token in time"}}\n\n');
    await waitFor(() => app.entries.length === 1);
    expect(app.entries[0]).toMatchObject({ api: 'messages', stream_error: 'ttft_timeout', level: 'warn' });
  });

  it('an upstream connection lost mid-event: the event is closed, then api_error', async () => {
    const upstream = await upstreamOf(async (_req, res) => {
      sseHead(res);
      res.write('event: message_start\ndata: {"type":"message_start"}\n\nevent: content_block_delta\ndata: {"type":"cont');
      await sleep(20);
      res.destroy();
    });
    const app = await proxy([providerOf(upstream, 'c', 'anthropic')]);
    const text = await timedPost(`${app.url}/v1/messages`, MESSAGE).done;
    expect(text).toMatch(/data: \{"type":"cont\n\nevent: error\ndata: \{"type":"error","error":\{"type":"api_error","message":"[^"]+"\}\}\n\n$/);
  });

  it('an upstream event: error is passed through, logged as upstream_error_event, and opens the breaker', async () => {
    const mocks = [messagesUpstream({ text: ['a ', 'b'] }), messagesUpstream({ text: ['a ', 'b'] })];
    const upstreams = [await upstreamOf(mocks[0]), await upstreamOf(mocks[1])];
    const app = await proxy([providerOf(upstreams[0], 'one', 'anthropic'), providerOf(upstreams[1], 'two', 'anthropic')], { breaker: { failureThreshold: 1 } });
    mocks[0].script('stream:overloaded_error');
    const first = await timedPost(`${app.url}/v1/messages`, MESSAGE).done;
    expect(first).toMatch(/event: error\ndata: \{"type":"error","error":\{"type":"overloaded_error","message":"Overloaded"\}\}\n\n$/);
    await waitFor(() => app.entries.length === 1);
    expect(app.entries[0]).toMatchObject({ provider: 'one', stream_error: 'upstream_error_event', level: 'warn' });
    for (let i = 0; i < 3; i++) {
      expect((await postJson(`${app.url}/v1/messages`, { ...MESSAGE, stream: false })).headers['x-llm-proxy-provider']).toBe('two');
    }
  });
});

describe('Responses streams', () => {
  it.each([
    ['whole events', 1000],
    ['7-byte pieces', 7],
    ['1-byte pieces', 1],
  ])('an idle timeout after the last forwarded event carries its sequence_number + 1 (%s)', async (_name, size) => {
    const events = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11].map((n) => responsesEvent(n)).join('');
    const upstream = await upstreamOf(async (_req, res) => {
      sseHead(res);
      await writeInPieces(res, events, size, false); // then silence
    });
    const app = await proxy([providerOf(upstream, 'o', 'openai')], { timeouts: { streamIdleMs: 200 } });
    const text = await timedPost(`${app.url}/v1/responses`, RESPONSE).done;
    const error = 'event: error\ndata: {"type":"error","code":"stream_idle_timeout","message":"The upstream provider stopped sending for too long","param":null,"sequence_number":12}\n\n';
    expect(text).toBe(events + error);
  });

  it('a TTFT timeout before any event: sequence_number 0', async () => {
    const upstream = await upstreamOf((_req, res) => sseHead(res));
    const app = await proxy([providerOf(upstream, 'o', 'openai')], { timeouts: { ttftMs: 150 } });
    const text = await timedPost(`${app.url}/v1/responses`, RESPONSE).done;
    expect(JSON.parse(text.split('data: ')[1])).toEqual({ type: 'error', code: 'ttft_timeout', message: expect.any(String), param: null, sequence_number: 0 });
    expect(text.startsWith('event: error\n')).toBe(true);
  });

  it('response.failed on a 2xx stream is passed through and counts against the provider', async () => {
    const mocks = [responsesUpstream({ prefix: 'a' }), responsesUpstream({ prefix: 'b' })];
    const upstreams = [await upstreamOf(mocks[0]), await upstreamOf(mocks[1])];
    const app = await proxy([providerOf(upstreams[0], 'a', 'openai'), providerOf(upstreams[1], 'b', 'openai')], { breaker: { failureThreshold: 1 } });
    mocks[0].script('stream:failed');
    const first = await timedPost(`${app.url}/v1/responses`, RESPONSE).done;
    expect(first).toContain('event: response.failed\n');
    expect(first).not.toContain('[DONE]');
    await waitFor(() => app.entries.length === 1);
    expect(app.entries[0]).toMatchObject({ provider: 'a', stream_error: 'upstream_error_event' });
    for (let i = 0; i < 3; i++) {
      expect((await postJson(`${app.url}/v1/responses`, { ...RESPONSE, stream: false })).headers['x-llm-proxy-provider']).toBe('b');
    }
  });

  it('an upstream error event is passed through as the upstream sent it', async () => {
    const mock = responsesUpstream({ prefix: 'a' });
    const upstream = await upstreamOf(mock);
    const app = await proxy([providerOf(upstream, 'a', 'openai')]);
    mock.script('stream:error');
    const text = await timedPost(`${app.url}/v1/responses`, RESPONSE).done;
    expect(text).toMatch(/event: error\ndata: \{"type":"error","code":"server_error","message":"[^"]+","param":null,"sequence_number":6\}\n\n$/);
    await waitFor(() => app.entries.length === 1);
    expect(app.entries[0].stream_error).toBe('upstream_error_event');
  });

  it('GET ?stream=true replays from the provider that created the response, query kept', async () => {
    const mocks = [responsesUpstream({ prefix: 'a' }), responsesUpstream({ prefix: 'b' })];
    const upstreams = [await upstreamOf(mocks[0]), await upstreamOf(mocks[1])];
    const app = await proxy([providerOf(upstreams[0], 'a', 'openai'), providerOf(upstreams[1], 'b', 'openai')]);
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) ids.push(String((await postJson(`${app.url}/v1/responses`, { ...RESPONSE, stream: false })).json?.id));
    for (const id of ids) {
      const replay = await send(`${app.url}/v1/responses/${id}?stream=true&starting_after=9`, { method: 'GET' });
      expect(replay.headers['content-type']).toMatch(/^text\/event-stream/);
      expect(replay.text).toContain('event: response.completed');
      expect(replay.text).not.toContain('response.created');
      expect(replay.headers['x-llm-proxy-provider']).toBe(id.split('_')[1]);
      expect((await send(`${app.url}/v1/responses/${id}`, { method: 'GET' })).json?.usage).toMatchObject({ input_tokens: 11 });
    }
    // The creates used tokens; a retrieve or a replay of a stored response does not use them again.
    await waitFor(() => app.entries.length === 6);
    expect(app.entries.map((e) => [e.method, e.usage === undefined ? 'no usage' : 'usage'])).toEqual([
      ['POST', 'usage'],
      ['POST', 'usage'],
      ['GET', 'no usage'],
      ['GET', 'no usage'],
      ['GET', 'no usage'],
      ['GET', 'no usage'],
    ]);
  });

  it('remembers at most responses.maxRemembered ids: the oldest is forgotten', async () => {
    const mocks = [responsesUpstream({ prefix: 'a' }), responsesUpstream({ prefix: 'b' })];
    const upstreams = [await upstreamOf(mocks[0]), await upstreamOf(mocks[1])];
    const app = await proxy([providerOf(upstreams[0], 'a', 'openai'), providerOf(upstreams[1], 'b', 'openai')], { responses: { maxRemembered: 1 } });
    const first = String((await postJson(`${app.url}/v1/responses`, { ...RESPONSE, stream: false })).json?.id);
    const second = String((await postJson(`${app.url}/v1/responses`, { ...RESPONSE, stream: false })).json?.id);
    expect((await send(`${app.url}/v1/responses/${second}`, { method: 'GET' })).status).toBe(200);
    expect((await send(`${app.url}/v1/responses/${first}`, { method: 'GET' })).json?.error?.code).toBe('response_not_found');
  });

  it('an unknown previous_response_id takes normal selection; the upstream answers for itself', async () => {
    const mock = responsesUpstream({ prefix: 'a' });
    const upstream = await upstreamOf(mock);
    const app = await proxy([providerOf(upstream, 'a', 'openai')]);
    const answer = await postJson(`${app.url}/v1/responses`, { ...RESPONSE, stream: false, previous_response_id: 'resp_nowhere' });
    expect(answer.status).toBe(400);
    expect(answer.json?.error?.code).toBe('previous_response_not_found');
  });
});
