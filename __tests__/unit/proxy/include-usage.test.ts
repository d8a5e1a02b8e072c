/** `withStreamUsage`: asks for the usage chunk by a byte-level edit, and leaves alone a body that already says. */
import type { JsonBody } from '../../../lib/http/read-body.js';
import { withStreamUsage } from '../../../lib/proxy/include-usage.js';
import { modelSpan, topLevelModelSpan, upstreamBody } from '../../../lib/proxy/rewrite-model.js';

const body = (raw: string): JsonBody => ({ bytes: Buffer.from(raw), raw, parsed: JSON.parse(raw) as Record<string, unknown> });

describe('withStreamUsage', () => {
  it.each([
    ['no stream_options', '{"model":"m","stream":true,"messages":[]}', '{"stream_options":{"include_usage":true},"model":"m","stream":true,"messages":[]}'],
    ['no stream_options, whitespace before the object', ' \n{ "model" : "m" }', ' \n{"stream_options":{"include_usage":true}, "model" : "m" }'],
    ['stream_options null', '{"model":"m","stream_options": null ,"n":1}', '{"model":"m","stream_options": {"include_usage":true} ,"n":1}'],
    ['stream_options {}', '{"model":"m","stream_options":{ }}', '{"model":"m","stream_options":{"include_usage":true }}'],
    ['stream_options with other fields', '{"model":"m","stream_options":{"include_obfuscation":false}}', '{"model":"m","stream_options":{"include_usage":true,"include_obfuscation":false}}'],
    ['the key spelled with an escape', '{"model":"m","stream\\u005foptions":{"x":1}}', '{"model":"m","stream\\u005foptions":{"include_usage":true,"x":1}}'],
    ['a nested stream_options before the top-level one', '{"metadata":{"stream_options":{}},"stream_options":{"x":1},"model":"m"}', '{"metadata":{"stream_options":{}},"stream_options":{"include_usage":true,"x":1},"model":"m"}'],
    ['a string mentioning stream_options', '{"note":"\\"stream_options\\":{}","model":"m"}', '{"stream_options":{"include_usage":true},"note":"\\"stream_options\\":{}","model":"m"}'],
    ['the key twice (the last one counts, as for JSON.parse)', '{"stream_options":{"a":1},"model":"m","stream_options":{"b":2}}', '{"stream_options":{"a":1},"model":"m","stream_options":{"include_usage":true,"b":2}}'],
  ])('adds include_usage, every other byte unchanged: %s', (_name, raw, expected) => {
    const sent = withStreamUsage(body(raw));
    expect(sent.raw).toBe(expected);
    expect(sent.bytes!.toString()).toBe(expected);
    expect(JSON.parse(expected).stream_options.include_usage).toBe(true);
    expect(sent.parsed).toEqual(JSON.parse(expected));
  });

  it.each([
    ['include_usage true', '{"model":"m","stream_options":{"include_usage":true}}'],
    ['include_usage false: the client said no', '{"model":"m","stream_options":{"include_usage":false}}'],
    ['include_usage null', '{"model":"m","stream_options":{"include_usage":null}}'],
    ['stream_options not an object (the upstream answers for it)', '{"model":"m","stream_options":"yes"}'],
    ['stream_options an array', '{"model":"m","stream_options":[]}'],
  ])('leaves the body itself when it already says: %s', (_name, raw) => {
    const original = body(raw);
    expect(withStreamUsage(original)).toBe(original);
  });

  it('a host-parsed body without raw text is serialised with the field', () => {
    const sent = withStreamUsage({ raw: undefined, parsed: { model: 'm', stream: true }, hostParsed: true });
    expect(JSON.parse(sent.raw!)).toEqual({ model: 'm', stream: true, stream_options: { include_usage: true } });
    expect(sent.hostParsed).toBe(true);
  });

  it('the model rewrite still applies to the edited body, at its new position', () => {
    const sent = withStreamUsage(body('{"model":"client-name","stream":true}'));
    expect(upstreamBody(sent, 'upstream-name').toString()).toBe('{"stream_options":{"include_usage":true},"model":"upstream-name","stream":true}');
    expect(upstreamBody(sent, 'client-name')).toBe(sent.bytes);
  });

  it.each([
    ['inserted at the start', '{"model":"m","messages":[{"content":"café 😀 ü"}]}'],
    ['inside stream_options after multi-byte text', '{"messages":[{"content":"café 😀"}],"model":"m","stream_options":{"x":"ü"}}'],
    ['replacing a null after multi-byte text', '{"messages":[{"content":"😀😀"}],"stream_options":null,"model":"m"}'],
  ])('the bytes are the edited text in UTF-8, copied from the client\u2019s bytes (%s)', (_name, raw) => {
    const sent = withStreamUsage(body(raw));
    expect(sent.bytes!.equals(Buffer.from(sent.raw!))).toBe(true);
    expect(JSON.parse(sent.bytes!.toString()).stream_options.include_usage).toBe(true);
  });

  it('carries the model\u2019s span over, shifted, rather than scanning again', () => {
    for (const raw of ['{"model":"m","stream":true}', '{"stream_options":{},"messages":[],"model":"m"}', '{"model":"m","stream_options":null}']) {
      const original = body(raw);
      modelSpan(original);
      const sent = withStreamUsage(original);
      expect(sent.modelSpan).toEqual(topLevelModelSpan(sent.raw!));
    }
  });
});
