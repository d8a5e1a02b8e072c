/**
 * A mock of OpenAI's Responses API, answering as the real API does (response object, SSE events
 * numbered by `sequence_number`, stored responses, OpenAI error bodies, `x-request-id`), checked
 * against `openai` and `@ai-sdk/openai` in `__tests__/kit-selftest/`.
 *
 * Endpoints (the path after `/v1`): `POST /responses` (JSON, or SSE with `"stream": true`),
 * `GET /responses/{id}` (JSON; `?stream=true` replays the stored events after `starting_after`),
 * `DELETE /responses/{id}`, `POST /responses/{id}/cancel` (background responses only, as the real
 * API), `GET /responses/{id}/input_items`. Ids are `resp_<prefix>_<n>`, so a test can tell which
 * mock created a response. Unknown id: OpenAI's 404; unknown `previous_response_id`: its 400.
 *
 * Failures: `mock.script(...outcomes)` queues outcomes for the next requests, or a request sends
 * `x-mock-outcome: <outcome>`. Outcomes: an error name of `OPENAI_ERRORS` (`rate_limit` → 429 with
 * `retry-after`, `server_error` → 500, `unavailable` → 503, ...), or for a streamed create
 * `stream:failed` (a `response.failed` event), `stream:error` (`event: error` with
 * `sequence_number`), `stream:error-unsequenced` (the same without it), each after the first
 * `streamErrorAfter` events (by default up to two text deltas).
 *
 * @example
 * const mock = responsesUpstream({ prefix: 'a' });
 * const upstream = await startUpstream(mock);
 * mock.script('rate_limit', 'stream:failed');
 */
import type { UpstreamHandler } from './upstream.js';
import { OutcomeScript, mockId, openSse, route, sendJson } from './mock-api.js';
import type { OpenAIErrorName, ResponseEvent, ResponseObject, ResponsesUsage, StreamEnding } from './responses-shapes.js';
import { OPENAI_ERRORS, inputItemsOf, openaiError, responseEvents, responseOf } from './responses-shapes.js';

export type ResponsesOutcome = 'ok' | OpenAIErrorName | 'stream:failed' | 'stream:error' | 'stream:error-unsequenced';
const OUTCOMES: ResponsesOutcome[] = ['ok', ...(Object.keys(OPENAI_ERRORS) as OpenAIErrorName[]), 'stream:failed', 'stream:error', 'stream:error-unsequenced'];

export interface ResponsesUpstreamOptions {
  /** Tells this mock's ids apart: `resp_<prefix>_<n>`, `msg_<prefix>_<n>`. Default 'mock'. */
  prefix?: string;
  /** The answer's text; a string is streamed one word per delta, an array one item per delta. Default 'Hello from the mock Responses upstream'. */
  text?: string | string[];
  /** Usage numbers. Defaults: 11 in (0 cached), 6 out (0 reasoning). */
  usage?: Partial<ResponsesUsage>;
  /** Pause after each SSE event. Default 0 (each event still goes in its own write, one macrotask apart). */
  delayMs?: number;
  /** When set, a request without `authorization: Bearer <apiKey>` gets OpenAI's 401. Default: no check. */
  apiKey?: string;
  /**
   * Events of the normal stream sent before a scripted mid-stream failure (0: the failure is the
   * first event). Default 6: created, in_progress, output_item.added, content_part.added, two deltas.
   */
  streamErrorAfter?: number;
  /** `code` and `message` of a scripted mid-stream failure. Default server_error. */
  streamError?: { code: string; message: string };
}

export interface StoredResponse {
  response: ResponseObject;
  events: ResponseEvent[];
  inputItems: Record<string, unknown>[];
}

export type ResponsesUpstream = UpstreamHandler & {
  /** Queues outcomes for the next requests (see the file comment). */
  script(...outcomes: ResponsesOutcome[]): void;
  /** Responses stored by id (created without `store: false`), to inspect or seed. */
  stored: Map<string, StoredResponse>;
  /** The resolved options; a test may change them between requests. */
  options: Required<Omit<ResponsesUpstreamOptions, 'usage' | 'apiKey'>> & Pick<ResponsesUpstreamOptions, 'apiKey'> & { usage: ResponsesUsage };
};

export function responsesUpstream(options: ResponsesUpstreamOptions = {}): ResponsesUpstream {
  const resolved: ResponsesUpstream['options'] = {
    prefix: options.prefix ?? 'mock',
    text: options.text ?? 'Hello from the mock Responses upstream',
    usage: { input_tokens: 11, cached_tokens: 0, output_tokens: 6, reasoning_tokens: 0, ...options.usage },
    delayMs: options.delayMs ?? 0,
    apiKey: options.apiKey,
    streamErrorAfter: options.streamErrorAfter ?? 6,
    streamError: options.streamError ?? { code: 'server_error', message: 'An error occurred while processing your request. Please try again.' },
  };
  const script = new OutcomeScript<ResponsesOutcome>(OUTCOMES);
  const stored = new Map<string, StoredResponse>();
  let counter = 0;

  const handler: UpstreamHandler = async (req, res, request) => {
    const n = ++counter;
    const headers = { 'x-request-id': mockId('req_mock', n), 'openai-processing-ms': '1', 'openai-version': '2020-10-01' };
    const fail = (status: number, body: ReturnType<typeof openaiError>, extra: Record<string, string> = {}) => sendJson(res, status, body, { ...headers, ...extra });
    let outcome: ResponsesOutcome;
    try {
      outcome = script.take(request);
    } catch (error) {
      return fail(500, openaiError((error as Error).message, 'server_error'));
    }
    if (outcome in OPENAI_ERRORS) {
      const { status, type, code, param, message } = OPENAI_ERRORS[outcome as OpenAIErrorName];
      return fail(status, openaiError(message, type, param, code), status === 429 ? { 'retry-after': '1' } : {});
    }
    if (resolved.apiKey !== undefined && req.headers.authorization !== `Bearer ${resolved.apiKey}`) {
      const { status, type, code, message } = OPENAI_ERRORS.unauthorized;
      return fail(status, openaiError(message, type, null, code));
    }

    const { path, query } = route(request.url);
    const body = request.json ?? {};
    if (req.method === 'POST' && path === '/responses') {
      const previous = body.previous_response_id;
      if (typeof previous === 'string' && !stored.has(previous)) {
        return fail(400, openaiError(`Previous response with id '${previous}' not found.`, 'invalid_request_error', 'previous_response_id', 'previous_response_not_found'));
      }
      const id = `resp_${resolved.prefix}_${n}`;
      const response = responseOf(id, `msg_${resolved.prefix}_${n}`, body, resolved.text, resolved.usage, n);
      const streamed = body.stream === true && !response.background;
      const ending: StreamEnding =
        streamed && outcome.startsWith('stream:')
          ? { kind: outcome.slice(7) as 'failed', afterEvents: resolved.streamErrorAfter, ...resolved.streamError }
          : { kind: 'completed' };
      const events = responseEvents(response, resolved.text, ending);
      const last = events.at(-1)!.data;
      if (last.type === 'response.failed') Object.assign(response, (last as unknown as { response: object }).response);
      if (response.store && last.type !== 'error') {
        stored.set(id, { response, events, inputItems: inputItemsOf(body.input, (i) => `msg_${resolved.prefix}_${n}_in${i}`) });
      }
      if (!streamed) return sendJson(res, 200, response, headers);
      const sse = openSse(res, headers, resolved.delayMs);
      for (const { event, data } of events) if (!(await sse.send(event, data))) return;
      return sse.end();
    }

    const match = /^\/responses\/([^/]+)(\/cancel|\/input_items)?$/.exec(path);
    const entry = match ? stored.get(match[1]) : undefined;
    if (match && !entry) return fail(404, openaiError(`Response with id '${match[1]}' not found.`, 'invalid_request_error'));
    if (!match || !entry) return fail(404, openaiError(`Invalid URL (${req.method} /v1${path})`, 'invalid_request_error'));
    const { response } = entry;
    const action = `${req.method} ${match[2] ?? ''}`;
    if (action === 'GET ') {
      if (query.get('stream') !== 'true') return sendJson(res, 200, response, headers);
      const after = Number(query.get('starting_after') ?? -1);
      const sse = openSse(res, headers, resolved.delayMs);
      for (const { event, data } of entry.events) if ((data.sequence_number ?? -1) > after && !(await sse.send(event, data))) return;
      return sse.end();
    }
    if (action === 'DELETE ') {
      stored.delete(response.id);
      return sendJson(res, 200, { id: response.id, object: 'response.deleted', deleted: true }, headers);
    }
    if (action === 'POST /cancel') {
      if (!response.background) return fail(400, openaiError('Only responses created with background=true can be cancelled.', 'invalid_request_error'));
      if (response.status === 'queued' || response.status === 'in_progress') response.status = 'cancelled';
      return sendJson(res, 200, response, headers);
    }
    if (action === 'GET /input_items') {
      const items = query.get('order') === 'asc' ? entry.inputItems : [...entry.inputItems].reverse();
      const list = { object: 'list', data: items, first_id: items[0]?.id ?? null, last_id: items.at(-1)?.id ?? null, has_more: false };
      return sendJson(res, 200, list, headers);
    }
    return fail(404, openaiError(`Invalid URL (${req.method} /v1${path})`, 'invalid_request_error'));
  };
  return Object.assign(handler, {
    script: (...outcomes: ResponsesOutcome[]) => script.push(...outcomes),
    stored,
    options: resolved,
  });
}
