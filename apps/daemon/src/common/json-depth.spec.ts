import { describe, expect, it } from '@jest/globals';
import { jsonDepthExceeds, verifyJsonDepth } from './json-depth.js';

const b = (s: string) => Buffer.from(s);

describe('jsonDepthExceeds', () => {
  it('counts object and array nesting', () => {
    expect(jsonDepthExceeds(b('{"a":[1,{"b":2}]}'), 3)).toBe(false);
    expect(jsonDepthExceeds(b('{"a":[1,{"b":[2]}]}'), 3)).toBe(true);
    expect(jsonDepthExceeds(b('[[],[],[]]'), 2)).toBe(false);
  });

  it('ignores brackets inside strings, escaped quotes included', () => {
    expect(jsonDepthExceeds(b('{"a":"[[[[{{{{","b":"\\"[[[["}'), 1)).toBe(false);
  });

  it('rejects 100,000 levels quickly', () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    expect(() => verifyJsonDepth(64)(undefined, undefined, b(deep))).toThrow(/deeper than 64/);
  });
});
