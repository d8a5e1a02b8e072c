/** Whom a request counts against, and that no key reaches the store raw. */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { defaultClientKey, hashKey } from '../../../lib/limits/client-key.js';
import { requestState } from '../../../lib/http/request-state.js';

function req(headers: Record<string, string> = {}, extra: { ip?: string; client?: string } = {}): IncomingMessage {
  const socket = new Socket();
  Object.defineProperty(socket, 'remoteAddress', { value: '10.0.0.9' });
  const message = { headers, socket, ip: extra.ip } as unknown as IncomingMessage;
  if (extra.client !== undefined) requestState(message).client = extra.client;
  return message;
}

const sha = (text: string) => createHash('sha256').update(text).digest('base64url');

describe('defaultClientKey', () => {
  it('without apiKeys, counts by IP (Express req.ip, else the socket), ignoring any bearer key the client made up', () => {
    expect(defaultClientKey(req({ authorization: 'Bearer made-up' }, { ip: '203.0.113.7' }), false)).toEqual({ raw: '203.0.113.7', hashed: sha('ip\u0000203.0.113.7') });
    expect(defaultClientKey(req(), false).raw).toBe('10.0.0.9');
  });

  it('with apiKeys, counts by the identity the predicate gave, else by the API key (bearer, then x-api-key)', () => {
    expect(defaultClientKey(req({ authorization: 'Bearer sk-1' }, { client: 'team-a' }), true).raw).toBe('team-a');
    expect(defaultClientKey(req({ authorization: 'Bearer sk-1' }, { client: '' }), true).raw).toBe('sk-1'); // no identity
    expect(defaultClientKey(req({ 'x-api-key': 'sk-ant' }), true).raw).toBe('sk-ant');
    expect(defaultClientKey(req({}, { ip: '203.0.113.7' }), true).raw).toBe('203.0.113.7');
  });

  it('hands the store a hash that contains neither the key nor anything of it, separate per kind', () => {
    const key = defaultClientKey(req({ authorization: 'Bearer sk-secret-123' }), true);
    expect(key.hashed).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(key.hashed).not.toContain('sk-secret');
    expect(hashKey('key', 'x').hashed).not.toBe(hashKey('ip', 'x').hashed);
    expect(hashKey('custom', 'x').hashed).not.toBe(hashKey('client', 'x').hashed);
  });
});
