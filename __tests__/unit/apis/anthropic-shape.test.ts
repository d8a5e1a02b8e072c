/** The Anthropic envelope of the proxy's own errors: the type by status, row by row, and in a stream by the pipe's reason. */
import { anthropicErrorBody, anthropicErrorType, anthropicStreamErrorEvent } from '../../../lib/apis/anthropic-shape.js';
import { apiOfPath } from '../../../lib/apis/index.js';

describe('anthropicErrorType', () => {
  it.each([
    [400, 'invalid_request_error'],
    [405, 'invalid_request_error'],
    [415, 'invalid_request_error'],
    [401, 'authentication_error'],
    [403, 'permission_error'],
    [404, 'not_found_error'],
    [413, 'request_too_large'],
    [429, 'rate_limit_error'],
    [500, 'api_error'],
    [502, 'api_error'],
    [503, 'overloaded_error'],
    [529, 'overloaded_error'],
    [504, 'timeout_error'],
    [418, 'invalid_request_error'],
    [507, 'api_error'],
  ])('%i is %s', (status, type) => {
    expect(anthropicErrorType(status)).toBe(type);
  });

  it('the body keeps the message and drops the OpenAI fields', () => {
    expect(anthropicErrorBody(404, { message: 'no such model', type: 'invalid_request_error', param: 'model', code: 'model_not_found' })).toEqual({
      type: 'error',
      error: { type: 'not_found_error', message: 'no such model' },
    });
  });
});

describe('anthropicStreamErrorEvent', () => {
  it.each([
    ['ttft_timeout', 'timeout_error'],
    ['stream_idle_timeout', 'timeout_error'],
    ['stream_max_duration', 'timeout_error'],
    ['upstream_stream_error', 'api_error'],
    ['proxy_closed', 'overloaded_error'],
    ['something_new', 'api_error'],
  ])('%s is an event: error of type %s', (code, type) => {
    expect(anthropicStreamErrorEvent(code, 'why "quoted"')).toBe(`event: error\ndata: {"type":"error","error":{"type":"${type}","message":"why \\"quoted\\""}}\n\n`);
  });
});

describe('apiOfPath (the envelope of a 404 on an unknown path)', () => {
  it.each([
    ['/v1/messages/batches', 'messages'],
    ['/v1/messages/count_tokens/x', 'messages'],
    ['/v1/responses/a/b/c', 'responses'],
    ['/v1/chat/completions/x', 'chat'],
    ['/v1/models/a/b', 'models'],
    ['/v1/unknown', undefined],
    ['/v1/messagesx', undefined],
  ])('%s → %s', (path, api) => {
    expect(apiOfPath(path)?.name).toBe(api);
  });
});
