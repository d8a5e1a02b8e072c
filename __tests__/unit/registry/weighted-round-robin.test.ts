/** Smooth weighted round-robin, over the candidates the provider index derives. */
import { ProviderIndex } from '../../../lib/registry/provider-index.js';
import { resolveProviders } from '../../../lib/registry/validate.js';
import { WeightedRoundRobin } from '../../../lib/registry/weighted-round-robin.js';
import type { ProviderConfig } from '../../../lib/registry/index.js';

const config = (id: number, key: string, extra: Partial<ProviderConfig> = {}): ProviderConfig => ({
  id,
  key,
  baseUrl: `http://127.0.0.1:1/${key}`,
  models: { m: `${key}-m` },
  ...extra,
});

function picks(configs: ProviderConfig[], n: number, model = 'm', wrr = new WeightedRoundRobin()): string[] {
  const index = new ProviderIndex(resolveProviders(configs));
  return Array.from({ length: n }, () => wrr.pick(model, index.candidates(model))?.key ?? '-');
}

const count = (list: string[], key: string) => list.filter((k) => k === key).length;

describe('WeightedRoundRobin', () => {
  it('gives exactly 75:25 over 100 picks for weights 3:1', () => {
    const seq = picks([config(1, 'a', { weight: 3 }), config(2, 'b', { weight: 1 })], 100);
    expect(count(seq, 'a')).toBe(75);
    expect(count(seq, 'b')).toBe(25);
  });

  it('interleaves 3:1: never two b in a row, never more than three a in a row, one b in every window of 4', () => {
    const seq = picks([config(1, 'a', { weight: 3 }), config(2, 'b', { weight: 1 })], 100);
    const text = seq.join('');
    expect(text).not.toContain('bb');
    expect(text).not.toContain('aaaa');
    for (let i = 0; i + 4 <= seq.length; i++) {
      expect(count(seq.slice(i, i + 4), 'b')).toBe(1);
    }
  });

  it('reproduces the nginx sequence for weights 5:1:1', () => {
    // From nginx's smooth weighted round-robin commit: { a a b a c a a }.
    const seq = picks([config(1, 'a', { weight: 5 }), config(2, 'b', { weight: 1 }), config(3, 'c', { weight: 1 })], 14);
    expect(seq.join(' ')).toBe('a a b a c a a a a b a c a a');
  });

  it('splits equal weights evenly, alternating', () => {
    const seq = picks([config(1, 'a'), config(2, 'b')], 10);
    expect(seq.join('')).toMatch(/^(ab|ba){5}$/);
  });

  it('keeps exact proportions for fractional weights', () => {
    const seq = picks([config(1, 'a', { weight: 0.5 }), config(2, 'b', { weight: 1.5 })], 40);
    expect(count(seq, 'a')).toBe(10);
    expect(count(seq, 'b')).toBe(30);
  });

  it('never picks a provider with weight 0', () => {
    const seq = picks([config(1, 'a', { weight: 0 }), config(2, 'b'), config(3, 'c')], 20);
    expect(seq).not.toContain('a');
    expect(count(seq, 'b')).toBe(10);
  });

  it('never picks a disabled provider', () => {
    const seq = picks([config(1, 'a', { enabled: false, weight: 10 }), config(2, 'b')], 10);
    expect(new Set(seq)).toEqual(new Set(['b']));
  });

  it('returns undefined when every provider is disabled or weighted 0', () => {
    const seq = picks([config(1, 'a', { enabled: false }), config(2, 'b', { weight: 0 })], 3);
    expect(seq).toEqual(['-', '-', '-']);
  });

  it('keeps separate state per model', () => {
    const wrr = new WeightedRoundRobin();
    const configs = [config(1, 'a', { weight: 3, models: { m: 'x', n: 'y' } }), config(2, 'b', { models: { m: 'x', n: 'y' } })];
    const interleaved: string[] = [];
    const index = new ProviderIndex(resolveProviders(configs));
    for (let i = 0; i < 40; i++) {
      interleaved.push(`${wrr.pick('m', index.candidates('m'))!.key}`);
      wrr.pick('n', index.candidates('n'));
    }
    expect(count(interleaved, 'a')).toBe(30);
    expect(interleaved.join('')).not.toContain('bb');
  });

  it('keeps working when the candidate list changes between picks', () => {
    const wrr = new WeightedRoundRobin();
    picks([config(1, 'a', { weight: 3 }), config(2, 'b')], 5, 'm', wrr);
    const after = picks([config(2, 'b'), config(3, 'c')], 10, 'm', wrr);
    expect(after).not.toContain('a');
    expect(Math.abs(count(after, 'b') - count(after, 'c'))).toBeLessThanOrEqual(1);
  });
});
