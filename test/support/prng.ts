/** A seeded PRNG (mulberry32) and generators of hostile JSON, so fuzz failures reproduce from the seed. */

export interface Rng {
  readonly seed: number;
  /** [0, 1) */
  next(): number;
  int(min: number, max: number): number;
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
}

export function rng(seed: number): Rng {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    seed,
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    pick: (items) => items[Math.floor(next() * items.length)]!,
    chance: (p) => next() < p,
  };
}

const NASTY_STRINGS = [
  '', ' ', '\u0000', '\u0000\u0001\u001f', '\ud83d\udca5', '\u202e\u0041\u0042', '𝕏'.repeat(50), "'; DROP TABLE workflows; --",
  '" OR 1=1 --', '../../../../etc/passwd', '%00', '%ZZ', '{{7*7}}', '${process.exit()}', '=$eval("1")', '=$$$(',
  '<script>alert(1)</script>', '__proto__', 'constructor', 'prototype', 'null', 'undefined', 'NaN', '-1', '1e309',
  'core.trigger.manual', 'core.', '.', 'a'.repeat(300), 'x'.repeat(70_000),
];

const NASTY_NUMBERS = [0, -0, -1, 1, 1.5, -1.5, 2 ** 31, -(2 ** 31), 2 ** 53 + 1, Number.MAX_VALUE, Number.MIN_VALUE, 1e21, -1e21, 123456789012345680000];

const NASTY_KEYS = ['', 'id', 'type', 'params', 'nodes', 'edges', 'version', 'input', 'name', '__proto__', 'constructor', 'toString', '$where', 'a.b', 'a[0]', '\u0000', 'k'.repeat(1000)];

export function randomString(r: Rng): string {
  if (r.chance(0.5)) return r.pick(NASTY_STRINGS);
  const len = r.int(0, 40);
  let s = '';
  for (let i = 0; i < len; i++) s += String.fromCharCode(r.chance(0.8) ? r.int(32, 126) : r.int(0, 0xffff));
  return s;
}

/** Random JSON *text* (keys may be `__proto__`, which JSON.stringify cannot produce from an object). */
export function randomJsonText(r: Rng, depth = 0): string {
  const roll = r.int(0, depth > 4 ? 5 : 8);
  switch (roll) {
    case 0: return 'null';
    case 1: return r.chance(0.5) ? 'true' : 'false';
    case 2: return String(r.pick(NASTY_NUMBERS));
    case 3: return r.pick(['1e309', '-1e309', '1E400', '0.000000000000000000000000000001', '-0', '1.0', '100000000000000000000000000000000']);
    case 4:
    case 5: return JSON.stringify(randomString(r));
    case 6: {
      const n = r.int(0, 5);
      return `[${Array.from({ length: n }, () => randomJsonText(r, depth + 1)).join(',')}]`;
    }
    default: {
      const n = r.int(0, 6);
      const keys = Array.from({ length: n }, () => (r.chance(0.6) ? r.pick(NASTY_KEYS) : randomString(r)));
      return `{${keys.map((k) => `${JSON.stringify(k)}:${randomJsonText(r, depth + 1)}`).join(',')}}`;
    }
  }
}

/** Text that is not JSON at all, or broken JSON. */
export function randomGarbage(r: Rng): string {
  const fixed = ['{', '}', '{"a":', '{"a" 1}', "{'a':1}", '[1,2', 'nul', 'tru', '{"a":NaN}', '{"a":Infinity}', '{"a":undefined}',
    '\ufeff{"name":"bom"}', '{"a":1,}', '[,]', '{"a":"\\x41"}', '{"a":"\\ud800"', '//{}', '/* */{}', '\u0000', '\u00ff\u00fe'];
  if (r.chance(0.5)) return r.pick(fixed);
  const valid = randomJsonText(r);
  if (valid.length < 2) return `${valid}}`;
  const cut = r.int(1, valid.length - 1);
  return r.chance(0.5) ? valid.slice(0, cut) : `${valid.slice(0, cut)}\u0000${valid.slice(cut)}`;
}

/** JSON text nested `depth` levels: objects or arrays. */
export function deeplyNested(depth: number, kind: 'object' | 'array' = 'object'): string {
  return kind === 'object' ? `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}` : `${'['.repeat(depth)}1${']'.repeat(depth)}`;
}
