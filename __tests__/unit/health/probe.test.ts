import { checkAllOptions, fromQuery, providerCheckOptions } from '../../../lib/router/admin-request.js';
import { httpErrorText, probeRequest } from '../../../lib/health/probe.js';
import { resolveProvider } from '../../../lib/registry/validate.js';

const provider = resolveProvider(
  { id: 1, key: 'k', baseUrl: 'https://api.example.com/v1/', apiKey: 'sk-secret-123456', headers: { 'api-key': 'azure-secret-xyz' }, models: { a: 'up-a' } },
  'p',
);

const errorOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return error as { status: number; body: { error: { param: string | null; type: string } } };
  }
  throw new Error('did not throw');
};

describe('admin health request', () => {
  it('applies the defaults and ignores unknown fields', () => {
    expect(providerCheckOptions({ extra: 1 })).toEqual({ models: undefined, maxConcurrent: 2, timeoutMs: 30_000 });
    expect(providerCheckOptions({ models: null, max_concurrent: null })).toMatchObject({ models: undefined, maxConcurrent: 2 });
    expect(checkAllOptions({ provider_ids: [1, 'two'], timeout_secs: 1.5 })).toMatchObject({ providerIds: [1, 'two'], timeoutMs: 1500 });
  });

  it.each([
    [{ max_concurrent: 0 }, 'max_concurrent'],
    [{ max_concurrent: 11 }, 'max_concurrent'],
    [{ max_concurrent: '2' }, 'max_concurrent'],
    [{ max_concurrent: true }, 'max_concurrent'],
    [{ timeout_secs: 0.5 }, 'timeout_secs'],
    [{ timeout_secs: 121 }, 'timeout_secs'],
    [{ timeout_secs: '30' }, 'timeout_secs'],
    [{ models: 'a' }, 'models'],
    [{ models: [''] }, 'models'],
    [{ provider_ids: [null] }, 'provider_ids'],
  ])('rejects %j with a 400 naming %s', (body, param) => {
    const error = errorOf(() => checkAllOptions(body));
    expect(error.status).toBe(400);
    expect(error.body.error).toMatchObject({ type: 'invalid_request_error', param });
  });

  it('reads the query strictly: numbers parsed, models split on commas', () => {
    expect(fromQuery({ models: 'a, b,,c', timeout_secs: '5', max_concurrent: '3' })).toEqual({ models: ['a', 'b', 'c'], timeout_secs: 5, max_concurrent: 3 });
    expect(fromQuery({ models: ['a', 'b,c'] })).toEqual({ models: ['a', 'b', 'c'] });
    expect(fromQuery({ models: '' })).toEqual({});
    expect(errorOf(() => fromQuery({ timeout_secs: '5s' })).body.error.param).toBe('timeout_secs');
    expect(errorOf(() => fromQuery({ max_concurrent: ['1', '2'] })).body.error.param).toBe('max_concurrent');
  });
});

describe('probe helpers', () => {
  it('formats HTTP errors with the upstream message, or without one', () => {
    expect(httpErrorText(429, '{"error":{"message":"Rate limit reached"}}', provider)).toBe('HTTP 429 - Rate limit reached');
    expect(httpErrorText(400, '{"error":"bad\\nrequest"}', provider)).toBe('HTTP 400 - bad request');
    expect(httpErrorText(502, '<html>Bad gateway</html>', provider)).toBe('HTTP 502');
    expect(httpErrorText(500, '{"error":{"message":""}}', provider)).toBe('HTTP 500');
    expect(httpErrorText(500, 'null', provider)).toBe('HTTP 500');
    expect(httpErrorText(400, `{"error":{"message":"${'x'.repeat(1000)}"}}`, provider).length).toBeLessThan(320);
  });

  it('redacts the API key, header secrets, base URL and host from upstream messages', () => {
    const message = 'key sk-secret-123456 or azure-secret-xyz at https://api.example.com/v1 (api.example.com)';
    expect(httpErrorText(401, JSON.stringify({ error: { message } }), provider)).toBe('HTTP 401 - key [redacted] or [redacted] at [redacted] ([redacted])');
  });

  it('builds the default chat probe', () => {
    expect(probeRequest(provider, provider.models.get('a')!)).toEqual({
      path: '/chat/completions',
      body: { model: 'up-a', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 5, stream: false },
    });
  });
});
