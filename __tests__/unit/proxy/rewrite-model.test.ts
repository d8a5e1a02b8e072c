/** `rewriteModel`: only the model's bytes change; anything ambiguous falls back to a safe re-serialisation. */
import { modelSpan, rewriteModel, topLevelModelSpan, upstreamBody } from '../../../lib/proxy/rewrite-model.js';

const body = (raw: string) => ({ raw, parsed: JSON.parse(raw) as Record<string, unknown> });

/** The raw text with the first occurrence of the model's JSON text swapped, computed independently. */
function spliced(raw: string, fromText: string, to: string): string {
  const at = raw.indexOf(fromText);
  expect(at).toBeGreaterThanOrEqual(0);
  return raw.slice(0, at) + JSON.stringify(to) + raw.slice(at + fromText.length);
}

describe('rewriteModel', () => {
  it.each([
    ['compact', '{"model":"gpt-test","messages":[]}', '"gpt-test"'],
    ['whitespace and newlines', '{\n  "messages" : [ ],\n  "model"\t:  "gpt-test" ,\n  "n": 1\n}\n', '"gpt-test"'],
    ['number formats JSON.parse would change', '{"temperature":1.0,"seed":12345678901234567890,"x":1e2,"model":"gpt-test"}', '"gpt-test"'],
    ['escapes in other strings', '{"messages":[{"role":"user","content":"caf\\u00e9 \\"quoted\\" \\\\"}],"model":"gpt-test"}', '"gpt-test"'],
    ['the model itself escaped', '{"model":"gpt\\u002dtest"}', '"gpt\\u002dtest"'],
    ['a content string that mentions "model"', '{"messages":[{"content":"set \\"model\\": \\"x\\""}],"model":"gpt-test"}', '"gpt-test"'],
    ['a nested "model" whose value is not a string', '{"model":"gpt-test","tools":[{"parameters":{"properties":{"model":{"type":"string"}}}}]}', '"gpt-test"'],
    ['key order with model last', '{"b":2,"a":1,"model":"gpt-test"}', '"gpt-test"'],
  ])('changes only the model bytes (%s)', (_name, raw, modelText) => {
    const out = rewriteModel(body(raw), 'upstream-model');
    expect(out).toBe(spliced(raw, modelText, 'upstream-model'));
    expect(JSON.parse(out)).toEqual({ ...JSON.parse(raw), model: 'upstream-model' });
  });

  it('escapes an upstream name that needs it', () => {
    const raw = '{"model":"m","x":1}';
    const out = rewriteModel(body(raw), 'we"ird\\name\u2028');
    expect(JSON.parse(out)).toEqual({ model: 'we"ird\\name\u2028', x: 1 });
    expect(out.endsWith(',"x":1}')).toBe(true);
  });

  it('returns the raw text itself when the name does not change', () => {
    const raw = '{ "model" : "same", "temperature": 1.0 }';
    expect(rewriteModel(body(raw), 'same')).toBe(raw);
  });

  it.each([
    ['a nested string "model" before the top-level one', '{"metadata":{"model":"gpt-test"},"model":"gpt-test"}', '{"metadata":{"model":"gpt-test"},"model":"upstream-model"}'],
    ['a nested string "model" after it', '{"model":"gpt-test", "tools":[{"function":{"name":"pick","model":"other"}}]}', '{"model":"upstream-model", "tools":[{"function":{"name":"pick","model":"other"}}]}'],
    ['a nested "model" in an array of objects', '{"messages":[{"model":"x"},{"model":"y"}] ,"model" : "gpt-test" }', '{"messages":[{"model":"x"},{"model":"y"}] ,"model" : "upstream-model" }'],
    ['a top-level key spelled with an escape', '{"metadata":{"model":"x"},"mod\\u0065l":"gpt-test"}', '{"metadata":{"model":"x"},"mod\\u0065l":"upstream-model"}'],
    ['a string value containing braces and a fake key', '{"note":"{\\"model\\":\\"x\\"}","meta":{"model":"z"},"model":"gpt-test"}', '{"note":"{\\"model\\":\\"x\\"}","meta":{"model":"z"},"model":"upstream-model"}'],
  ])('rewrites only the top-level model when nested keys make it ambiguous: %s', (_name, raw, expected) => {
    const parsed = JSON.parse(raw) as Record<string, unknown>;
    const out = rewriteModel(body(raw), 'upstream-model');
    expect(out).toBe(expected);
    expect(JSON.parse(out)).toEqual({ ...parsed, model: 'upstream-model' });
  });

  it.each([
    ['the only top-level key escaped, a nested "model" holding the same name', '{"\\u006dodel":"gpt-test","metadata":{"model":"gpt-test"}}', '{"\\u006dodel":"upstream-model","metadata":{"model":"gpt-test"}}'],
    ['every letter escaped', '{"\\u006d\\u006f\\u0064\\u0065\\u006c" : "gpt-test","x":{"model":"gpt-test"}}', '{"\\u006d\\u006f\\u0064\\u0065\\u006c" : "upstream-model","x":{"model":"gpt-test"}}'],
    ['upper-case hex escapes', '{"n":[{"model":"gpt-test"}],"mo\\u0044el":"x","mo\\u0064el":"gpt-test"}', '{"n":[{"model":"gpt-test"}],"mo\\u0044el":"x","mo\\u0064el":"upstream-model"}'],
    ['a value string that reads "model" after an escaped quote', '{"\\u006dodel":"gpt-test","note":"x\\"model\\":\\"gpt-test"}', '{"\\u006dodel":"upstream-model","note":"x\\"model\\":\\"gpt-test"}'],
    ['a key that ends in "model"', '{"x\\"model":"gpt-test","model":"gpt-test"}', '{"x\\"model":"gpt-test","model":"upstream-model"}'],
    ['"model" as a value', '{"role":"model","model":"gpt-test","other":"model"}', '{"role":"model","model":"upstream-model","other":"model"}'],
    ['strings ending in backslashes', '{"a":"\\\\","b":["\\\\\\\\\\"]"],"model":"gpt-test"}', '{"a":"\\\\","b":["\\\\\\\\\\"]"],"model":"upstream-model"}'],
    ['numbers, literals and brackets in strings around it', '{"a":-1.5e+3,"b":true,"c":null,"d":[[],{}],"e":"}]{[","model" :\n"gpt-test"\n}', '{"a":-1.5e+3,"b":true,"c":null,"d":[[],{}],"e":"}]{[","model" :\n"upstream-model"\n}'],
  ])('maps the key every parser reads as the top-level model: %s', (_name, raw, expected) => {
    const out = rewriteModel(body(raw), 'upstream-model');
    expect(out).toBe(expected);
    expect(JSON.parse(out)).toEqual({ ...JSON.parse(raw), model: 'upstream-model' });
  });

  it('maps a top-level model nested under 100000 levels of other values (no recursion)', () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    const raw = `{"deep":${deep},"model":"gpt-test"}`;
    expect(rewriteModel({ raw, parsed: { model: 'gpt-test' } }, 'upstream-model')).toBe(`{"deep":${deep},"model":"upstream-model"}`);
  });

  it.each([
    ['twice', '{"model":"gpt-test","model":"gpt-test"}'],
    ['once escaped', '{"model":"gpt-test","messages":[],"\\u006dodel":"other"}'],
    ['both escaped, whitespace around', '{ "mod\\u0065l" : "a" , "\\u006d\\u006f\\u0064\\u0065\\u006c" : "gpt-test" }'],
    ['with a non-string first value', '{"model":{"x":1},"model":"gpt-test"}'],
  ])('refuses a body with more than one top-level model key (%s)', (_name, raw) => {
    const parsed = JSON.parse(raw) as Record<string, unknown>;
    for (const target of ['upstream-model', String(parsed.model)]) {
      expect(() => upstreamBody({ bytes: Buffer.from(raw), raw, parsed }, target)).toThrow(
        expect.objectContaining({ name: 'HttpError', status: 400, body: { error: { message: expect.any(String), type: 'invalid_request_error', param: 'model', code: 'duplicate_key' } } }),
      );
    }
    expect(() => modelSpan({ raw, parsed })).toThrow(expect.objectContaining({ status: 400 }));
  });

  it('leaves nested duplicates alone', () => {
    const raw = '{"a":{"model":"x","model":"y"},"model":"gpt-test"}';
    expect(topLevelModelSpan(raw)).toEqual({ start: raw.lastIndexOf('"gpt-test"'), end: raw.length - 1 });
  });

  it('re-serialises a body the host already parsed (no raw bytes)', () => {
    const parsed = { model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }], temperature: 0.5 };
    const out = rewriteModel({ raw: undefined, parsed }, 'upstream-model');
    expect(JSON.parse(out)).toEqual({ ...parsed, model: 'upstream-model' });
    expect(parsed.model).toBe('gpt-test'); // the host's object is not mutated
  });

  it('re-serialises when the raw text has no top-level string model to splice', () => {
    // Only reachable with a JsonBody built by hand, but the answer must still be well-formed.
    const out = rewriteModel({ raw: '{"meta":{"model":"x"},"n":1}', parsed: { meta: { model: 'x' }, n: 1, model: 'gpt-test' } }, 'upstream-model');
    expect(JSON.parse(out)).toEqual({ meta: { model: 'x' }, n: 1, model: 'upstream-model' });
  });
});

describe('upstreamBody', () => {
  it('forwards the client bytes themselves when the model name does not change', () => {
    const bytes = Buffer.from('{ "model":"same", "x": 1.0 }');
    expect(upstreamBody({ bytes, raw: bytes.toString(), parsed: { model: 'same', x: 1 } }, 'same')).toBe(bytes);
  });

  it('returns the rewritten text as a Buffer otherwise', () => {
    const raw = '{ "model":"gpt-test", "x": 1.0 }';
    const out = upstreamBody({ bytes: Buffer.from(raw), ...body(raw) }, 'upstream-model');
    expect(out.toString('utf8')).toBe('{ "model":"upstream-model", "x": 1.0 }');
  });

  it('serialises a host-parsed body, which has no bytes', () => {
    const out = upstreamBody({ raw: undefined, parsed: { model: 'same' } }, 'same');
    expect(JSON.parse(out.toString('utf8'))).toEqual({ model: 'same' });
  });
});
