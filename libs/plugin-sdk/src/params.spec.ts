import { describe, expect, it } from '@jest/globals';
import { validateSync } from 'class-validator';
import fc from 'fast-check';
import { IsJsonata, Static, validateParams } from './params.js';
import { IsArray, IsBoolean, IsDefined, IsIn, IsInt, IsOptional, IsString, Max, Min, MinLength, ValidateIf } from './validation.js';

class Mixed {
  @IsOptional() @IsInt() @Min(1) @Max(10) count?: number;
  @IsString() @MinLength(2) @Static() name!: string;
  @IsOptional() @IsIn(['a', 'b']) mode?: string;
  @IsDefined() flag!: unknown;
  @ValidateIf((o: Mixed) => o.mode === 'a') @IsBoolean() strict?: boolean;
  @IsOptional() @IsArray() @IsString({ each: true }) tags?: string[];
  @IsOptional() @IsJsonata() condition?: string;
}

const anyValue = fc.oneof(
  fc.constant(undefined), fc.constant(null), fc.integer({ min: -3, max: 14 }), fc.double(), fc.boolean(),
  fc.constantFrom('a', 'b', 'c', '', 'xy', '=$.x', '= (', '$.a + 1'), fc.array(fc.oneof(fc.string({ maxLength: 3 }), fc.integer()), { maxLength: 3 }),
  fc.object({ maxDepth: 1 }),
);
const params = fc.record({
  count: anyValue, name: anyValue, mode: anyValue, flag: anyValue, strict: anyValue, tags: anyValue, condition: anyValue,
}, { requiredKeys: [] });

describe('validateParams (validators compiled once per class)', () => {
  it('finds a problem exactly where class-validator finds one, for any params', () => {
    fc.assert(
      fc.property(params, (raw) => {
        const { problems } = validateParams(Mixed, raw);
        // the reference: class-validator itself on the same instance
        const instance = Object.assign(new Mixed(), raw);
        const expressions = (k: string) => typeof (raw as Record<string, unknown>)[k] === 'string' && String((raw as Record<string, unknown>)[k]).startsWith('=') && ((raw as Record<string, unknown>)[k] as string).length > 1;
        const reference = validateSync(instance, { forbidUnknownValues: false })
          // an =expression is only checked once evaluated, unless the param must be static
          .filter((e) => !expressions(e.property) || e.constraints?.isStatic)
          .map((e) => `$.${e.property}`)
          .sort();
        expect(problems.map((p) => p.path).sort()).toEqual(reference);
      }),
      { numRuns: 400 },
    );
  });

  it('still gives class-validator’s messages', () => {
    expect(validateParams(Mixed, { name: 'ok', flag: 1, count: 0, tags: ['x', 2] }).problems).toEqual([
      { path: '$.count', message: 'count must not be less than 1' },
      { path: '$.tags', message: 'each value in tags must be a string' },
    ]);
    expect(validateParams(Mixed, { name: 'ok', flag: 1, count: 3 }).problems).toEqual([]);
  });
});
