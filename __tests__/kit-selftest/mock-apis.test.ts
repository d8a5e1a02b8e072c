/** The API mocks on the wire: shapes, event order, sequence numbers, errors and scripting, read with plain fetch. */
import { OUTCOME_HEADER, sseEvents } from '../kit/mock-api.js';
import { messagesUpstream } from '../kit/messages-upstream.js';
import { responsesUpstream } from '../kit/responses-upstream.js';
import type { TestUpstream } from '../kit/upstream.js';
import { startUpstream } from '../kit/upstream.js';

const ANTHROPIC = { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': 'sk-ant-test' };
const create = { model: 'claude-test', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] };

/** fetch, with `json()` untyped: these tests check the mocks' bodies field by field. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Answer = Omit<Response, 'json'> & { json(): Promise<any> };
const get = (url: string, init?: RequestInit): Promise<Answer> => fetch(url, init);

function post(url: string, body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }) {
  return get(url, { method: 'POST', headers, body: JSON.stringify(body) });
}

describe('messagesUpstream on the wire', () => {
  const mock = messagesUpstream({ apiKey: 'sk-ant-test', text: ['Hel', 'lo ', 'world'], usage: { input_tokens: 21, output_tokens: 3, cache_read_input_tokens: 5 } });
  let upstream: TestUpstream;
  beforeAll(async () => {
    upstream = await startUpstream(mock);
  });
  afterAll(() => upstream.close());
  beforeEach(() => {
    mock.options.unknownEvent = undefined;
    mock.options.toolUse = undefined;
  });

  it('answers a JSON message with the configured text and usage, and a request-id', async () => {
    const res = await post(`${upstream.baseUrl}/messages`, create, ANTHROPIC);
    expect(res.status).toBe(200);
    expect(res.headers.get('request-id')).toMatch(/^req_/);
    const body = await res.json();
    expect(body).toMatchObject({ type: 'message', role: 'assistant', model: 'claude-test', stop_reason: 'end_turn', stop_sequence: null });
    expect(body.id).toMatch(/^msg_/);
    expect(body.content).toEqual([{ type: 'text', text: 'Hello world' }]);
    expect(body.usage).toMatchObject({ input_tokens: 21, output_tokens: 3, cache_creation_input_tokens: 0, cache_read_input_tokens: 5 });
  });

  it('streams the real event sequence, each event line naming its data type', async () => {
    const res = await post(`${upstream.baseUrl}/messages`, { ...create, stream: true }, ANTHROPIC);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = sseEvents(await res.text());
    expect(events.map((e) => e.event)).toEqual(['message_start', 'content_block_start', 'ping', 'content_block_delta', 'content_block_delta', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop']);
    for (const { event, data } of events) expect(data.type).toBe(event);
    expect(events.filter((e) => e.event === 'content_block_delta').map((e) => (e.data.delta as { text: string }).text)).toEqual(['Hel', 'lo ', 'world']);
    expect((events[0].data.message as { usage: { input_tokens: number } }).usage.input_tokens).toBe(21);
    expect(events[7].data).toMatchObject({ delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 3 } });
  });

  it('adds an unknown event after the ping, and a tool_use block with input_json_delta pieces', async () => {
    mock.options.unknownEvent = 'future_event';
    mock.options.toolUse = { name: 'get_weather', input: { city: 'Paris' } };
    const events = sseEvents(await (await post(`${upstream.baseUrl}/messages`, { ...create, stream: true }, ANTHROPIC)).text());
    expect(events[3]).toEqual({ event: 'future_event', data: { type: 'future_event' } });
    const toolStart = events.find((e) => e.event === 'content_block_start' && e.data.index === 1);
    expect(toolStart?.data.content_block).toMatchObject({ type: 'tool_use', name: 'get_weather', input: {} });
    const json = events.filter((e) => e.data.index === 1 && e.event === 'content_block_delta').map((e) => (e.data.delta as { partial_json: string }).partial_json);
    expect(json.length).toBeGreaterThan(1);
    expect(JSON.parse(json.join(''))).toEqual({ city: 'Paris' });
    expect(events.find((e) => e.event === 'message_delta')?.data.delta).toMatchObject({ stop_reason: 'tool_use' });
  });

  it.each([
    ['invalid_request_error', 400],
    ['authentication_error', 401],
    ['rate_limit_error', 429],
    ['api_error', 500],
    ['overloaded_error', 529],
  ] as const)('answers a scripted %s with %i and the Anthropic error body', async (type, status) => {
    mock.script(type);
    const res = await post(`${upstream.baseUrl}/messages`, create, ANTHROPIC);
    expect(res.status).toBe(status);
    const requestId = res.headers.get('request-id');
    expect(requestId).toMatch(/^req_/);
    const body = await res.json();
    expect(body).toEqual({ type: 'error', error: { type, message: expect.any(String) }, request_id: requestId });
    expect(res.headers.get('retry-after')).toBe(type === 'rate_limit_error' ? '1' : null);
  });

  it('takes scripted outcomes in order, then the x-mock-outcome header, then ok', async () => {
    mock.script('ok', 'overloaded_error');
    expect((await post(`${upstream.baseUrl}/messages`, create, ANTHROPIC)).status).toBe(200);
    expect((await post(`${upstream.baseUrl}/messages`, create, ANTHROPIC)).status).toBe(529);
    expect((await post(`${upstream.baseUrl}/messages`, create, { ...ANTHROPIC, [OUTCOME_HEADER]: 'api_error' })).status).toBe(500);
    expect((await post(`${upstream.baseUrl}/messages`, create, ANTHROPIC)).status).toBe(200);
    const unknown = await post(`${upstream.baseUrl}/messages`, create, { ...ANTHROPIC, [OUTCOME_HEADER]: 'nonsense' });
    expect(unknown.status).toBe(500);
    expect((await unknown.json()).error.message).toContain("unknown outcome 'nonsense'");
    expect(() => mock.script('nonsense' as never)).toThrow(/unknown outcome/);
  });

  it('sends event: error after the first streamErrorAfter events on a stream:<type> outcome', async () => {
    mock.script('stream:overloaded_error');
    const events = sseEvents(await (await post(`${upstream.baseUrl}/messages`, { ...create, stream: true }, ANTHROPIC)).text());
    expect(events.map((e) => e.event)).toEqual(['message_start', 'content_block_start', 'ping', 'content_block_delta', 'content_block_delta', 'error']);
    expect(events.at(-1)?.data).toEqual({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });
  });

  it('checks the key (x-api-key or Bearer) and anthropic-version as the real API', async () => {
    const { 'x-api-key': _key, ...noKey } = ANTHROPIC;
    expect((await post(`${upstream.baseUrl}/messages`, create, { ...noKey, authorization: 'Bearer sk-ant-test' })).status).toBe(200);
    const wrong = await post(`${upstream.baseUrl}/messages`, create, { ...noKey, 'x-api-key': 'sk-wrong' });
    expect(wrong.status).toBe(401);
    expect((await wrong.json()).error.type).toBe('authentication_error');
    const { 'anthropic-version': _version, ...noVersion } = ANTHROPIC;
    const unversioned = await post(`${upstream.baseUrl}/messages`, create, noVersion);
    expect(unversioned.status).toBe(400);
    expect((await unversioned.json()).error.message).toContain('anthropic-version');
    const { max_tokens: _max, ...noMax } = create;
    expect((await (await post(`${upstream.baseUrl}/messages`, noMax, ANTHROPIC)).json()).error).toEqual({ type: 'invalid_request_error', message: 'max_tokens: Field required' });
  });

  it('counts tokens, lists and retrieves models, and 404s anything else; routes on the path after /v1', async () => {
    expect(await (await post(`${upstream.origin}/gateway/v1/messages/count_tokens`, { model: 'm', messages: [] }, ANTHROPIC)).json()).toEqual({ input_tokens: 21 });
    const list = await (await get(`${upstream.baseUrl}/models?limit=20`, { headers: ANTHROPIC })).json();
    expect(list.data.map((m: { type: string }) => m.type)).toEqual(['model', 'model']);
    expect(list).toMatchObject({ has_more: false, first_id: list.data[0].id, last_id: list.data[1].id });
    const one = await get(`${upstream.baseUrl}/models/${list.data[1].id}`, { headers: ANTHROPIC });
    expect((await one.json()).id).toBe(list.data[1].id);
    const missing = await get(`${upstream.baseUrl}/models/claude-nope`, { headers: ANTHROPIC });
    expect(missing.status).toBe(404);
    expect((await missing.json()).error.type).toBe('not_found_error');
  });
});

describe('responsesUpstream on the wire', () => {
  const mock = responsesUpstream({ prefix: 'a', text: ['Hi', ' there'], usage: { input_tokens: 9, cached_tokens: 4, output_tokens: 2, reasoning_tokens: 1 } });
  let upstream: TestUpstream;
  beforeAll(async () => {
    upstream = await startUpstream(mock);
  });
  afterAll(() => upstream.close());
  const url = () => `${upstream.baseUrl}/responses`;

  it('answers a JSON response object with a prefixed id, the message output and usage', async () => {
    const res = await post(url(), { model: 'gpt-4o', input: 'hi', instructions: 'be brief' });
    expect(res.headers.get('x-request-id')).toMatch(/^req_/);
    const body = await res.json();
    expect(body.id).toMatch(/^resp_a_\d+$/);
    expect(body).toMatchObject({ object: 'response', status: 'completed', model: 'gpt-4o', instructions: 'be brief', error: null, incomplete_details: null, previous_response_id: null });
    expect(body.output).toEqual([{ type: 'message', id: expect.stringMatching(/^msg_a_/), role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'Hi there', annotations: [], logprobs: [] }] }]);
    expect(body.usage).toEqual({ input_tokens: 9, input_tokens_details: { cached_tokens: 4 }, output_tokens: 2, output_tokens_details: { reasoning_tokens: 1 }, total_tokens: 11 });
  });

  it('streams the real events, numbered from 0, ending with the completed response', async () => {
    const events = sseEvents(await (await post(url(), { model: 'gpt-4o', input: 'hi', stream: true })).text());
    expect(events.map((e) => e.event)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    events.forEach(({ event, data }, i) => expect(data).toMatchObject({ type: event, sequence_number: i }));
    expect(events[0].data.response).toMatchObject({ status: 'in_progress', output: [], usage: null });
    const completed = events.at(-1)!.data.response as { id: string; status: string; output: unknown[] };
    expect(completed.status).toBe('completed');
    expect(await (await get(`${url()}/${completed.id}`)).json()).toEqual(completed);
  });

  it('stores responses: retrieve, replay from starting_after, input items, delete, then 404', async () => {
    const created = await (await post(url(), { model: 'gpt-4o', input: [{ role: 'user', content: 'one' }, { role: 'user', content: [{ type: 'input_text', text: 'two' }] }] })).json();
    const replay = sseEvents(await (await get(`${url()}/${created.id}?stream=true&starting_after=7&include[]=message.output_text.logprobs`)).text());
    expect(replay.map((e) => e.data.sequence_number)).toEqual([8, 9]);
    const items = await (await get(`${url()}/${created.id}/input_items`)).json();
    expect(items).toMatchObject({ object: 'list', has_more: false });
    expect(items.data.map((item: { content: { text: string }[] }) => item.content[0].text)).toEqual(['two', 'one']);
    const asc = await (await get(`${url()}/${created.id}/input_items?order=asc`)).json();
    expect(asc.first_id).toBe(items.last_id);
    expect(await (await get(`${url()}/${created.id}`, { method: 'DELETE' })).json()).toEqual({ id: created.id, object: 'response.deleted', deleted: true });
    const gone = await get(`${url()}/${created.id}`);
    expect(gone.status).toBe(404);
    expect(await gone.json()).toEqual({ error: { message: `Response with id '${created.id}' not found.`, type: 'invalid_request_error', param: null, code: null } });
    const unstored = await (await post(url(), { model: 'gpt-4o', input: 'x', store: false })).json();
    expect((await get(`${url()}/${unstored.id}`)).status).toBe(404);
  });

  it('answers previous_response_id as OpenAI: unknown → 400 previous_response_not_found, known → chained', async () => {
    const unknown = await post(url(), { model: 'gpt-4o', input: 'x', previous_response_id: 'resp_b_1' });
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toEqual({
      error: { message: "Previous response with id 'resp_b_1' not found.", type: 'invalid_request_error', param: 'previous_response_id', code: 'previous_response_not_found' },
    });
    const first = await (await post(url(), { model: 'gpt-4o', input: 'x' })).json();
    const second = await (await post(url(), { model: 'gpt-4o', input: 'y', previous_response_id: first.id })).json();
    expect(second.previous_response_id).toBe(first.id);
  });

  it('cancels background responses only', async () => {
    const background = await (await post(url(), { model: 'gpt-4o', input: 'x', background: true })).json();
    expect(background).toMatchObject({ status: 'queued', background: true, output: [] });
    expect((await (await post(`${url()}/${background.id}/cancel`, {})).json()).status).toBe('cancelled');
    const plain = await (await post(url(), { model: 'gpt-4o', input: 'x' })).json();
    const refused = await post(`${url()}/${plain.id}/cancel`, {});
    expect(refused.status).toBe(400);
    expect((await refused.json()).error.type).toBe('invalid_request_error');
  });

  it.each([
    ['rate_limit', 429, 'rate_limit_exceeded'],
    ['server_error', 500, null],
    ['unavailable', 503, null],
  ] as const)('answers a scripted %s with %i and the OpenAI error body', async (outcome, status, code) => {
    mock.script(outcome);
    const res = await post(url(), { model: 'gpt-4o', input: 'x' });
    expect(res.status).toBe(status);
    expect(await res.json()).toEqual({ error: { message: expect.any(String), type: expect.any(String), param: null, code } });
    expect(res.headers.get('retry-after')).toBe(status === 429 ? '1' : null);
  });

  it.each([
    ['stream:failed', 'response.failed'],
    ['stream:error', 'error'],
    ['stream:error-unsequenced', 'error'],
  ] as const)('ends a stream with %s after two deltas', async (outcome, last) => {
    mock.script(outcome);
    const events = sseEvents(await (await post(url(), { model: 'gpt-4o', input: 'x', stream: true })).text());
    expect(events.map((e) => e.event).slice(0, -1)).toEqual(['response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added', 'response.output_text.delta', 'response.output_text.delta']);
    expect(events.at(-1)!.event).toBe(last);
    const data = events.at(-1)!.data;
    if (outcome === 'stream:failed') expect(data).toMatchObject({ sequence_number: 6, response: { status: 'failed', error: { code: 'server_error' } } });
    if (outcome === 'stream:error') expect(data).toEqual({ type: 'error', code: 'server_error', message: expect.any(String), param: null, sequence_number: 6 });
    if (outcome === 'stream:error-unsequenced') expect(data).toEqual({ type: 'error', code: 'server_error', message: expect.any(String), param: null });
  });

  it('checks the Bearer key when one is configured', async () => {
    const guarded = await startUpstream(responsesUpstream({ apiKey: 'sk-oa' }));
    try {
      const refused = await post(`${guarded.baseUrl}/responses`, { model: 'gpt-4o', input: 'x' }, { 'content-type': 'application/json', authorization: 'Bearer nope' });
      expect(refused.status).toBe(401);
      expect((await refused.json()).error.code).toBe('invalid_api_key');
      const ok = await post(`${guarded.baseUrl}/responses`, { model: 'gpt-4o', input: 'x' }, { 'content-type': 'application/json', authorization: 'Bearer sk-oa' });
      expect(ok.status).toBe(200);
    } finally {
      await guarded.close();
    }
  });
});
