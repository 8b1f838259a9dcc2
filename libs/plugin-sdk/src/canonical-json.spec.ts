import { describe, expect, it } from '@jest/globals';
import { canonicalJson, CanonicalJsonError, strictCanonicalJson } from './canonical-json.js';

/** a small deterministic generator (Park–Miller), so a failure names its seed */
function generator(seed: number) {
  let s = seed % 2147483647 || 1;
  const rnd = () => (s = (s * 48271) % 2147483647) / 2147483647;
  const keys = ['a', 'B', 'b', '10', '2', 'é', 'ü', '\u{1F600}', '', 'a b', '"q"', 'executionId', 'constructor', '__proto__x'];
  const leaves = [1.5, -0, 1e21, 1e-7, 0.1 + 0.2, -123456789.125, 'x\n"\\\u2028', 'ü\u{1F600}', '\\ud800 (text, not a surrogate)', true, false, null, undefined,
    '', 'plain', 'tab\there', '\u001f', 'back\\slash', 'q"uote', 'x'.repeat(300), `${'y'.repeat(300)}"`, '\u007f\u0080\u2029'];
  const value = (depth: number): unknown => {
    const r = rnd();
    if (depth > 3 || r < 0.3) return leaves[Math.floor(rnd() * leaves.length)];
    if (r < 0.6) return Array.from({ length: Math.floor(rnd() * 4) }, () => value(depth + 1));
    return Object.fromEntries(Array.from({ length: Math.floor(rnd() * 5) }, () => [keys[Math.floor(rnd() * keys.length)]!, value(depth + 1)]));
  };
  return value;
}

describe('canonicalJson (RFC 8785)', () => {
  it('its lean path gives exactly what the strict reference gives, on random plain JSON', () => {
    const seed = Number(process.env.CANON_SEED ?? 1307);
    const value = generator(seed);
    for (let i = 0; i < 3000; i++) {
      // (a bare undefined is not JSON: both refuse it)
      const v = i % 2 ? [value(0)] : { k: value(0) };
      expect([seed, i, canonicalJson(v)]).toEqual([seed, i, strictCanonicalJson(v)]);
    }
    expect(canonicalJson({ b: [1, { d: 2, c: undefined }], a: 'x', 10: 1, 2: 2 })).toBe('{"10":1,"2":2,"a":"x","b":[1,{"d":2}]}');
    // many members (past the insertion sort's range), in reverse and shuffled order
    const many = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${(i * 17) % 40}`, i % 3 ? 'v' : { z: 1, a: [i] }]));
    expect(canonicalJson(many)).toBe(strictCanonicalJson(many));
    expect(canonicalJson({ z: 1, y: 2, x: 3, w: 4, v: 5 })).toBe('{"v":5,"w":4,"x":3,"y":2,"z":1}');
    expect(canonicalJson({ only: undefined, fn: () => 1 })).toBe('{}');
  });

  it('hands what is not plain data to the strict path: toJSON, boxed values, null prototypes, deep nesting', () => {
    expect(canonicalJson({ at: new Date(0) })).toBe('{"at":"1970-01-01T00:00:00.000Z"}');
    expect(canonicalJson([new String('s'), new Number(1)])).toBe('["s",1]');
    expect(canonicalJson(Object.assign(Object.create(null) as object, { b: 1, a: 2 }))).toBe('{"a":2,"b":1}');
    let deep: unknown = 'leaf';
    for (let i = 0; i < 100; i++) deep = { d: deep };
    expect(canonicalJson(deep)).toBe(strictCanonicalJson(deep));
    const tagged = Object.assign([1, 2], { toJSON: () => 'replaced' });
    expect(canonicalJson({ t: tagged })).toBe('{"t":"replaced"}');
    // a class instance (an engine event) by its own members, top-level members left out on request
    class Event { type = 'node.succeeded'; executionId = 'x'; seq = 2; output = new (class { z = 1; a = { y: 2 } })(); }
    expect(canonicalJson(new Event(), new Set(['executionId', 'hash']))).toBe('{"output":{"a":{"y":2},"z":1},"seq":2,"type":"node.succeeded"}');
    expect(canonicalJson(new Event())).toBe(strictCanonicalJson(new Event()));
    expect(canonicalJson({ a: 1, b: new Date(0) }, new Set(['a']))).toBe('{"b":"1970-01-01T00:00:00.000Z"}');
  });

  it('refuses what canonical JSON cannot hold, saying where', () => {
    const cycle: Record<string, unknown> = { a: 1 };
    cycle.self = { back: cycle };
    const cases: Array<[unknown, string]> = [
      [{ v: 'a\uD800' }, '$.v'],
      [{ n: [1, Number.NaN] }, '$.n[1]'],
      [{ big: 10n }, '$.big'],
      [{ m: new Map() }, '$.m'],
      [cycle, '$.self.back'],
    ];
    for (const [bad, path] of cases) {
      let err: unknown;
      try {
        canonicalJson(bad);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(CanonicalJsonError);
      expect((err as CanonicalJsonError).path).toBe(path);
    }
  });
});
