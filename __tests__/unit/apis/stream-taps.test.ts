/** The Messages and Responses stream taps: upstream failures noticed by event type, the response id reported once, in any chunking. */
import { messagesApi } from '../../../lib/apis/messages.js';
import { responsesApi } from '../../../lib/apis/responses.js';
import { cuttings } from '../usage/fixtures.js';

function tapOver(api: typeof messagesApi, text: string) {
  const bytes = Buffer.from(text);
  return cuttings(bytes, 17, 6).map((pieces) => {
    const ids: string[] = [];
    const tap = api.streamTap({ responseId: (id) => ids.push(id) });
    for (const piece of pieces) tap.chunk!(piece);
    return { failed: tap.upstreamFailed, ids };
  });
}

const everyWay = (api: typeof messagesApi, text: string, expected: { failed: boolean; ids: string[] }) => {
  for (const seen of tapOver(api, text)) expect(seen).toEqual(expected);
};

describe('the Messages tap', () => {
  const delta = (text: string) => `event: content_block_delta\ndata: {"type":"content_block_delta","delta":{"type":"text_delta","text":${JSON.stringify(text)}}}\n\n`;

  it('notices event: error, in any line-ending style', () => {
    everyWay(messagesApi, delta('a') + 'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n', { failed: true, ids: [] });
    everyWay(messagesApi, delta('a') + 'event: error\r\ndata: {"type":"error","error":{"type":"api_error","message":"x"}}\r\n\r\n', { failed: true, ids: [] });
  });

  it('does not take text about errors for one', () => {
    everyWay(messagesApi, delta('event: error') + delta('"type":"error"') + 'event: message_stop\ndata: {"type":"message_stop"}\n\n', { failed: false, ids: [] });
  });

  it('writes its own errors in Anthropic\'s framing', () => {
    expect(messagesApi.streamTap({ responseId() {} }).errorEvent('stream_idle_timeout', 'idle')).toBe('event: error\ndata: {"type":"error","error":{"type":"timeout_error","message":"idle"}}\n\n');
  });
});

describe('the Responses tap', () => {
  const created = 'event: response.created\ndata: {"type":"response.created","sequence_number":0,"response":{"id":"resp_9","error":null}}\n\n';
  const delta = 'event: response.output_text.delta\ndata: {"type":"response.output_text.delta","sequence_number":1,"delta":"response.failed"}\n\n';

  it('reports the id of response.created once, from the first event only', () => {
    everyWay(responsesApi, created + delta + created.replace('resp_9', 'resp_10'), { failed: false, ids: ['resp_9'] });
    everyWay(responsesApi, delta + created, { failed: false, ids: [] });
    everyWay(responsesApi, created.replace('event: response.created\n', ''), { failed: false, ids: ['resp_9'] });
  });

  it('notices response.failed and error events, not text that names them', () => {
    everyWay(responsesApi, created + delta + 'event: response.failed\ndata: {"type":"response.failed","sequence_number":2,"response":{"id":"resp_9","status":"failed"}}\n\n', { failed: true, ids: ['resp_9'] });
    everyWay(responsesApi, created + 'event: error\ndata: {"type":"error","code":"server_error","message":"x","param":null,"sequence_number":1}\n\n', { failed: true, ids: ['resp_9'] });
    everyWay(responsesApi, created + 'data: {"type":"response.failed","sequence_number":2,"response":{"status":"failed"}}\n\n', { failed: true, ids: ['resp_9'] });
  });

  it('numbers its own error event after the last one forwarded', () => {
    const tap = responsesApi.streamTap({ responseId() {} });
    tap.chunk!(Buffer.from(created + delta));
    expect(JSON.parse(tap.errorEvent('proxy_closed', 'bye').split('data: ')[1])).toEqual({ type: 'error', code: 'proxy_closed', message: 'bye', param: null, sequence_number: 2 });
  });
});
