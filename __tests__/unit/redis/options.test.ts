/**
 * `createRedisStore` checks its options at construction; keys escape what a client controls; and
 * the main entry never loads `redis` or this folder (redis is an optional peer).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createClient } from 'redis';
import { createRedisStore } from '../../../lib/redis/index.js';
import { escapeKeyPart } from '../../../lib/redis/keys.js';
import { MAX_PART_LENGTH } from '../../../lib/redis/keys.js';
import { root } from '../../fixtures/ensure-dist.js';
import { connectClient, describeWithRedis, startRedis } from '../../kit/redis-server.js';
import type { TestRedis } from '../../kit/redis-server.js';
import { thrownBy } from '../../kit/thrown.js';

describe('escapeKeyPart', () => {
  it.each<[string, string]>([
    ['gpt-4o_mini.v2~x', 'gpt-4o_mini.v2~x'],
    ['a:b', 'a%3Ab'],
    ['*?[]', '%2A%3F%5B%5D'],
    ['100%', '100%25'],
    ['sp ace\r\n', 'sp%20ace%0D%0A'],
    ['é', '%C3%A9'],
    ['', ''],
  ])('%j → %j', (part, escaped) => {
    expect(escapeKeyPart(part)).toBe(escaped);
  });

  it('hashes a part longer than the limit, so a client cannot choose the size of our keys', () => {
    const long = 'x'.repeat(MAX_PART_LENGTH + 1);
    expect(escapeKeyPart(long)).toMatch(/^#[0-9a-f]{64}$/);
    expect(escapeKeyPart(`${long}y`)).not.toBe(escapeKeyPart(long));
    expect(escapeKeyPart('x'.repeat(MAX_PART_LENGTH))).toBe('x'.repeat(MAX_PART_LENGTH));
  });
});

describe('createRedisStore options', () => {
  it.each<[string, unknown, string]>([
    ['no options', undefined, 'options'],
    ['no client', {}, 'client'],
    ['a client of another shape', { client: { get: () => undefined, set: () => undefined } }, 'client'],
    ['a client that is not connected', { client: createClient({ url: 'redis://127.0.0.1:1' }) }, 'client'],
  ])('rejects %s, naming the option', (_, options, option) => {
    const error = thrownBy(() => createRedisStore(options as never));
    expect(error).toMatchObject({ name: 'InvalidOptionError', code: 'invalid_option', option });
    expect(String(error.message)).toContain(`\`${option}\``);
  });

  it('says how to fix a client that is not connected', () => {
    const error = thrownBy(() => createRedisStore({ client: createClient() }));
    expect(error.message).toMatch(/await client\.connect\(\)/);
  });
});

describeWithRedis('createRedisStore options with a connected client', () => {
  let redis: TestRedis;
  let client: Awaited<ReturnType<typeof connectClient>>;
  beforeAll(async () => {
    redis = await startRedis();
    client = await connectClient(redis.url);
  });
  afterAll(async () => {
    await client?.close();
    await redis?.stop();
  });

  it.each<[string, object, string]>([
    ['prefix: 5', { prefix: 5 }, 'prefix'],
    ['timeoutMs: 0', { timeoutMs: 0 }, 'timeoutMs'],
    ["timeoutMs: '50'", { timeoutMs: '50' }, 'timeoutMs'],
    ['a logger without warn/error or log', { logger: { info: () => undefined } }, 'logger'],
    ['maxAffinityEntries: 1.5', { maxAffinityEntries: 1.5 }, 'maxAffinityEntries'],
  ])('rejects %s', (_, extra, option) => {
    expect(thrownBy(() => createRedisStore({ client, ...extra } as never))).toMatchObject({ name: 'InvalidOptionError', option });
  });

  it('writes only keys of the form prefix + namespace + ":" + escaped part, whatever the caller passes', async () => {
    const prefix = 'shape-test:';
    const store = createRedisStore({ client, prefix, logger: { log: () => undefined } });
    await store.ready;
    const hostile = 'a:b* [x]\r\nSET evil 1 é';
    await store.records<number>(hostile).update(hostile, () => 1);
    await store.tryLock(hostile, 10_000);
    store.remember(hostile, 'p', 10_000);
    await store.hit(hostile, { requestsPerMinute: 5, tokensPerMinute: 5 });
    store.charge(hostile, 3);
    await store.recallRemote(hostile); // after the fire-and-forget writes on this connection
    await store.close();
    const keys = await client.keys('*');
    expect(keys.filter((key) => !key.startsWith(prefix))).toEqual([]);
    const namespaces = keys.map((key) => key.slice(prefix.length).split(':')[0]).sort();
    expect(namespaces).toEqual(['affinity', 'lock', 'op', 'rate', 'records', 'records-seq', 'token-sum', 'tokens']);
    for (const key of keys) expect(key.slice(prefix.length)).toMatch(/^[a-z-]+:[A-Za-z0-9._~%-]+$/);
    expect(await client.exists('evil')).toBe(0);
  });

  it('closes only its own subscriber connection: the host client stays open', async () => {
    const store = createRedisStore({ client, logger: { log: () => undefined } });
    await store.ready;
    await store.close();
    expect(client.isOpen).toBe(true);
    expect(await client.ping()).toBe('PONG');
  });
});

describe('the main entry and redis', () => {
  /** Every file the module imports, transitively (relative imports only), and the bare packages it names. */
  function importGraph(entry: string) {
    const files = new Set<string>();
    const packages = new Set<string>();
    const visit = (file: string) => {
      if (files.has(file)) return;
      files.add(file);
      const source = readFileSync(file, 'utf8');
      for (const [, spec] of source.matchAll(/(?:import|export)\s[^'"]*?from\s+'([^']+)'|import\('([^']+)'\)/g)) {
        if (!spec) continue;
        if (spec.startsWith('.')) visit(path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts')));
        else packages.add(spec);
      }
    };
    visit(path.join(root, entry));
    return { files: [...files].map((f) => path.relative(root, f)), packages: [...packages] };
  }

  it('imports neither `redis` nor lib/redis/', () => {
    const { files, packages } = importGraph('lib/index.ts');
    expect(files.length).toBeGreaterThan(20); // the walk does follow the imports
    expect(packages).not.toContain('redis');
    expect(files.filter((f) => f.startsWith('lib/redis/'))).toEqual([]);
  });

  it('is what lib/redis/ is for: the redis entry does reach it', () => {
    expect(importGraph('lib/redis/index.ts').packages).toContain('redis');
  });
});
