/** Response ids from JSON answers (top-level `id` only) and from `response.created` data. */
import { responseIdOfAnswer, responseIdOfCreated } from '../../../lib/apis/response-id.js';

const answer = (text: string) => responseIdOfAnswer(Buffer.from(text));

describe('responseIdOfAnswer', () => {
  it('reads the top-level id, first or later, never a nested one', () => {
    expect(answer('{"id":"resp_1","object":"response"}')).toBe('resp_1');
    expect(answer(' \n{ "id" : "resp_2" }')).toBe('resp_2');
    expect(answer('{"output":[{"id":"msg_1","content":[{"id":"x"}]}],"id":"resp_3"}')).toBe('resp_3');
    expect(answer('{"output":[{"id":"msg_1"}],"text":"\\"id\\":\\"fake\\""}')).toBeUndefined();
  });

  it('gives nothing for a non-string id, a non-object, an id beyond the first 16 KiB, or an overlong id', () => {
    expect(answer('{"id":42}')).toBeUndefined();
    expect(answer('["id","resp"]')).toBeUndefined();
    expect(answer(`{"pad":"${'x'.repeat(20_000)}","id":"resp_late"}`)).toBeUndefined();
    expect(answer(`{"id":"${'r'.repeat(300)}"}`)).toBeUndefined();
    expect(answer('{"id":"resp_cut')).toBeUndefined();
  });
});

describe('responseIdOfCreated', () => {
  it('reads response.id as OpenAI writes it, and in other layouts by parsing', () => {
    expect(responseIdOfCreated('{"type":"response.created","sequence_number":0,"response":{"id":"resp_a","object":"response"}}')).toBe('resp_a');
    expect(responseIdOfCreated('{"type":"response.created","response":{"object":"response","id":"resp_b"}}')).toBe('resp_b');
    expect(responseIdOfCreated('{"type":"response.created","response":{"object":"response"}}')).toBeUndefined();
    expect(responseIdOfCreated('not json')).toBeUndefined();
  });
});
