/**
 * Redis key names. Every key is `prefix + namespace + ':' + escaped part`: the namespace is ours,
 * the part may come from a client (a response id, a hashed API key), so it is escaped and a long
 * one is hashed. Escaped parts contain only `[A-Za-z0-9._~-]` and `%XX`, so no part can end early
 * at a `:` or carry glob characters, and two different parts (valid Unicode) never map to the same key.
 */
import { createHash } from 'node:crypto';

/** Longer escaped parts become a hash: a client cannot make us write keys of any size. */
export const MAX_PART_LENGTH = 200;

const PLAIN = /^[A-Za-z0-9._~-]*$/;

function isPlainByte(byte: number): boolean {
  return (
    (byte >= 0x30 && byte <= 0x39) || // 0-9
    (byte >= 0x41 && byte <= 0x5a) || // A-Z
    (byte >= 0x61 && byte <= 0x7a) || // a-z
    byte === 0x2e || byte === 0x5f || byte === 0x7e || byte === 0x2d // . _ ~ -
  );
}

export function escapeKeyPart(part: string): string {
  let escaped = part;
  if (!PLAIN.test(part)) {
    escaped = '';
    for (const byte of Buffer.from(part, 'utf8')) {
      escaped += isPlainByte(byte) ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    }
  }
  if (escaped.length <= MAX_PART_LENGTH) return escaped;
  // `#` never appears in an escaped part, so a hashed part cannot equal an escaped one.
  return `#${createHash('sha256').update(part, 'utf8').digest('hex')}`;
}

/** Builds the keys and the channel of one store from its prefix. */
export function keyspace(prefix: string) {
  const key = (namespace: string, part: string) => `${prefix}${namespace}:${escapeKeyPart(part)}`;
  return {
    /** A hash per records namespace: field = record key, value = `version:json`. */
    records: (namespace: string) => key('records', namespace),
    /** The namespace's version counter: every write takes the next number, never reused. */
    recordsSeq: (namespace: string) => key('records-seq', namespace),
    /** Where each committed record change is published. */
    changes: `${prefix}changes`,
    /** Marks that a record write committed, so a retry after a lost answer does not apply it twice. */
    op: (id: string) => key('op', id),
    lock: (name: string) => key('lock', name),
    affinity: (responseId: string) => key('affinity', responseId),
    /** A sorted set of the admitted requests' times. */
    requests: (rateKey: string) => key('rate', rateKey),
    /** A sorted set of the charges (`member:tokens`) and the running sum of their tokens. */
    tokens: (rateKey: string) => key('tokens', rateKey),
    tokenSum: (rateKey: string) => key('token-sum', rateKey),
  };
}

export type Keyspace = ReturnType<typeof keyspace>;
