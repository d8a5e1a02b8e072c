/** findMarker finds exactly what Buffer#indexOf finds, on text sparse or dense in the anchor byte. */
import { compileMarkers, findMarker } from '../../../lib/sse/marker-search.js';

test('the anchor is the marker\u2019s least common byte', () => {
  const [prompt, usage, other] = compileMarkers(['"prompt_tokens"', '"usage"', 'Zeta']);
  expect(String.fromCharCode(prompt.anchor)).toBe('k');
  expect(String.fromCharCode(usage.anchor)).toBe('g');
  expect([String.fromCharCode(other.anchor), other.anchorAt]).toEqual(['Z', 0]);
});

test('a frozen marker list is encoded once; an unfrozen one each time', () => {
  const frozen = Object.freeze(['"usage"']);
  expect(compileMarkers(frozen)).toBe(compileMarkers(frozen));
  const plain = ['"usage"'];
  expect(compileMarkers(plain)).not.toBe(compileMarkers(plain));
});

test('same answers as Buffer#indexOf from every start, including text full of the anchor byte', () => {
  let seed = 3;
  const random = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const markers = ['"prompt_tokens"', 'kkx', '"usage"', 'gg', 'é世'];
  const wrong: unknown[] = [];
  let checked = 0;
  const alphabets = ['"prompt_tokens":kx ', 'k', 'kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkx', 'gusage"é世', 'abc'];
  for (let round = 0; round < 400; round++) {
    const alphabet = alphabets[random(alphabets.length)];
    const text = Array.from({ length: random(120) }, () => alphabet[random(alphabet.length)]).join('');
    const haystack = Buffer.from(random(3) === 0 ? `${text}${markers[random(markers.length)]}${text}` : text);
    for (const compiled of compileMarkers(markers)) {
      for (let from = 0; from <= haystack.length; from++) {
        checked++;
        const found = findMarker(haystack, compiled, from);
        if (found !== haystack.indexOf(compiled.bytes, from)) wrong.push([haystack.toString(), compiled.bytes.toString(), from, found]);
      }
    }
  }
  expect(checked).toBeGreaterThan(50_000);
  expect(wrong).toEqual([]);
});
