import { runInNewContext } from 'node:vm';
import { describe, expect, it } from '@jest/globals';
import { canonicalJson } from './canonical-json.js';
import { catchSecurityError } from '../spec-support/errors.js';

/** The double with these IEEE-754 bits, as RFC 8785 Appendix B lists them. */
function double(bits: string): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, BigInt(`0x${bits}`));
  return view.getFloat64(0);
}

/** JSON text with `~` for every backslash, so the RFC's escapes can be copied verbatim. */
const parseTilde = (text: string): unknown => JSON.parse(text.replaceAll('~', '\\'));

describe('canonicalJson: RFC 8785 vectors', () => {
  it.each([
    ['0000000000000000', '0'],
    ['8000000000000000', '0'], // -0
    ['0000000000000001', '5e-324'],
    ['8000000000000001', '-5e-324'],
    ['7fefffffffffffff', '1.7976931348623157e+308'],
    ['ffefffffffffffff', '-1.7976931348623157e+308'],
    ['4340000000000000', '9007199254740992'],
    ['c340000000000000', '-9007199254740992'],
    ['4430000000000000', '295147905179352830000'],
    ['44b52d02c7e14af5', '9.999999999999997e+22'],
    ['44b52d02c7e14af6', '1e+23'],
    ['44b52d02c7e14af7', '1.0000000000000001e+23'],
    ['444b1ae4d6e2ef4e', '999999999999999700000'],
    ['444b1ae4d6e2ef4f', '999999999999999900000'],
    ['444b1ae4d6e2ef50', '1e+21'],
    ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
    ['3eb0c6f7a0b5ed8d', '0.000001'],
    ['41b3de4355555553', '333333333.3333332'],
    ['41b3de4355555554', '333333333.33333325'],
    ['41b3de4355555555', '333333333.3333333'],
    ['41b3de4355555556', '333333333.3333334'],
    ['41b3de4355555557', '333333333.33333343'],
    ['becbf647612f3696', '-0.0000033333333333333333'],
    ['43143ff3c1cb0959', '1424953923781206.2'],
  ])('Appendix B: %s → %s', (bits, text) => {
    expect(canonicalJson(double(bits))).toBe(text);
    expect(canonicalJson({ n: [double(bits)] })).toBe(`{"n":[${text}]}`);
  });

  it.each([
    ['7fffffffffffffff', 'NaN'],
    ['7ff0000000000000', 'Infinity'],
    ['fff0000000000000', '-Infinity'],
  ])('Appendix B: %s (%s) is an error, also when nested', (bits) => {
    catchSecurityError(() => canonicalJson(double(bits)), 'CANONICAL_JSON_INVALID');
    const err = catchSecurityError(() => canonicalJson({ a: [1, { b: double(bits) }] }), 'CANONICAL_JSON_INVALID');
    expect(err.details).toEqual({ path: '$.a[1].b' });
  });

  const sample = parseTilde(`{
    "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
    "string": "~u20ac$~u000F~u000aA'~u0042~u0022~u005c~~~"~/",
    "literals": [null, true, false]
  }`);

  it('§3.2.2/3.2.3: the sample object', () => {
    expect(canonicalJson(sample)).toBe(
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$~u000f~nA\'B~"~~~~~"/"}'.replaceAll('~', '\\'),
    );
  });

  it('§3.2.4: the sample as UTF-8 bytes', () => {
    const expected = `
      7b 22 6c 69 74 65 72 61 6c 73 22 3a 5b 6e 75 6c 6c 2c 74 72
      75 65 2c 66 61 6c 73 65 5d 2c 22 6e 75 6d 62 65 72 73 22 3a
      5b 33 33 33 33 33 33 33 33 33 2e 33 33 33 33 33 33 33 2c 31
      65 2b 33 30 2c 34 2e 35 2c 30 2e 30 30 32 2c 31 65 2d 32 37
      5d 2c 22 73 74 72 69 6e 67 22 3a 22 e2 82 ac 24 5c 75 30 30
      30 66 5c 6e 41 27 42 5c 22 5c 5c 5c 5c 5c 22 2f 22 7d`;
    expect(Buffer.from(canonicalJson(sample), 'utf8').toString('hex')).toBe(expected.replace(/\s+/g, ''));
  });

  it('§3.2.3: members sorted by UTF-16 code units, not code points or locale', () => {
    const value = parseTilde(`{
      "~u20ac": "Euro Sign",
      "~r": "Carriage Return",
      "~ufb33": "Hebrew Letter Dalet With Dagesh",
      "1": "One",
      "~ud83d~ude00": "Emoji: Grinning Face",
      "~u0080": "Control",
      "~u00f6": "Latin Small Letter O With Diaeresis"
    }`);
    expect(canonicalJson(value)).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","ö":"Latin Small Letter O With Diaeresis",' +
        '"€":"Euro Sign","😀":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
    // Code-point order would put U+FB33 before U+1F600; UTF-16 order puts the surrogate 0xD83D first.
    expect(canonicalJson({ '\ufb33': 1, '\u{1F600}': 2 })).toBe('{"\u{1F600}":2,"\ufb33":1}');
    expect(canonicalJson({ 'péché': 1, 'pêche': 2, peach: 3, sin: 4 })).toBe('{"peach":3,"péché":1,"pêche":2,"sin":4}');
  });
});

describe('canonicalJson: the rest of the rules', () => {
  it('writes numbers in ECMAScript form', () => {
    expect(canonicalJson([-0, 1e21, 1e20, 0.000001, 1e-7, 4.5, 100, -1.5e-10, 2 ** 60])).toBe(
      '[0,1e+21,100000000000000000000,0.000001,1e-7,4.5,100,-1.5e-10,1152921504606847000]',
    );
  });

  it('escapes strings minimally: short escapes, lowercase \\u00xx for other controls, the rest literal', () => {
    expect(canonicalJson('\b\t\n\f\r"\\\u0000\u001f\u007f\u2028/é😀')).toBe('"\\b\\t\\n\\f\\r\\"\\\\\\u0000\\u001f\u007f\u2028/é😀"');
    expect(canonicalJson({ 'a\nb': 1 })).toBe('{"a\\nb":1}');
  });

  it('rejects lone surrogates in values and keys (I-JSON)', () => {
    catchSecurityError(() => canonicalJson('\ud800'), 'CANONICAL_JSON_INVALID');
    catchSecurityError(() => canonicalJson('x\udead'), 'CANONICAL_JSON_INVALID');
    catchSecurityError(() => canonicalJson({ ['\udc00']: 1 }), 'CANONICAL_JSON_INVALID');
    expect(canonicalJson('\ud83d\ude00')).toBe('"😀"');
  });

  it('sorts nested objects recursively and keeps array order, without whitespace', () => {
    expect(canonicalJson({ b: [{ z: 1, y: 2 }, 3], a: { d: null, c: 'x' }, '': true })).toBe('{"":true,"a":{"c":"x","d":null},"b":[{"y":2,"z":1},3]}');
    expect(canonicalJson({ 10: 'a', 9: 'b', 1: 'c' })).toBe('{"1":"c","10":"a","9":"b"}');
    expect(canonicalJson([])).toBe('[]');
    expect(canonicalJson({})).toBe('{}');
  });

  it('takes input the way JSON.stringify does, so a value and its JSON round trip canonicalize alike', () => {
    const value = { at: new Date('2025-01-02T03:04:05.006Z'), gone: undefined, fn: () => 1, list: [undefined, 1], n: new Number(3), s: new String('x') };
    expect(canonicalJson(value)).toBe('{"at":"2025-01-02T03:04:05.006Z","list":[null,1],"n":3,"s":"x"}');
    expect(canonicalJson(value)).toBe(canonicalJson(JSON.parse(JSON.stringify(value))));
    class Dto {
      constructor(readonly b: number, readonly a: string) {}
    }
    expect(canonicalJson(new Dto(1, 'x'))).toBe('{"a":"x","b":1}');
    expect(canonicalJson({ toJSON: () => ({ y: 1, x: 2 }) })).toBe('{"x":2,"y":1}');
  });

  it('accepts shared references but refuses cycles, naming the path', () => {
    const shared = { v: 1 };
    expect(canonicalJson({ a: shared, b: shared })).toBe('{"a":{"v":1},"b":{"v":1}}');
    const cyclic: Record<string, unknown> = { list: [] };
    (cyclic.list as unknown[]).push({ back: cyclic });
    const err = catchSecurityError(() => canonicalJson(cyclic), 'CANONICAL_JSON_INVALID');
    expect(err.details).toEqual({ path: '$.list[0].back' });
  });

  it('refuses what JSON.stringify would silently mangle or drop at the top', () => {
    for (const bad of [new Map([['a', 1]]), new Set([1]), new Uint8Array(2), /x/, 10n, undefined, () => 1, Symbol('s')]) {
      catchSecurityError(() => canonicalJson(bad), 'CANONICAL_JSON_INVALID');
    }
    // Also when they come from another realm, where instanceof would not recognize them.
    catchSecurityError(() => canonicalJson({ m: runInNewContext('new Map([[1, 2]])') }), 'CANONICAL_JSON_INVALID');
    catchSecurityError(() => canonicalJson({ p: Promise.resolve(1) }), 'CANONICAL_JSON_INVALID');
    const err = catchSecurityError(() => canonicalJson({ 'odd key': { n: 1n } }), 'CANONICAL_JSON_INVALID');
    expect(err.details).toEqual({ path: '$["odd key"].n' });
  });

});
