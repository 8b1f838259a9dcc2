import { JSONSchema } from '@anchorflow/plugin-sdk';
import { Check, isPlainObject } from '../../shared/validators.js';

export class SetParams {
  // the function form replaces the generated schema, which would point at a nonexistent `Object` definition
  @JSONSchema(() => ({
    type: 'object',
    description: 'Field name → value. A value written as `=expression` is evaluated against the input first.',
  }))
  @Check('isFieldMap', (value) => {
    if (!isPlainObject(value)) return 'must be an object of field name → value';
    return Object.hasOwn(value, '') ? 'must not contain an empty field name' : undefined;
  })
  fields!: Record<string, unknown>;
}
