import { defineNode } from '@anchorflow/plugin-sdk';
import { isPlainObject } from '../../shared/validators.js';
import { SetParams } from './set.params.js';

export const setNode = defineNode<SetParams>({
  type: 'core.set',
  version: 1,
  title: 'Set fields',
  description: 'Emits its input with the given fields added or replaced.',
  category: 'transform',
  inputs: ['main'],
  outputs: ['main'],
  params: SetParams,
  pure: true,
  // On the benchmark hot path: one shallow spread, no cloning and no checks. The engine has validated
  // and evaluated `fields` already, and nothing downstream mutates payloads, so sharing nested values
  // with the input is safe.
  execute(ctx, input) {
    return { main: isPlainObject(input) ? { ...input, ...ctx.params.fields } : { value: input, ...ctx.params.fields } };
  },
});
