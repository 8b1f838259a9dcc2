import { defineNode } from '@anchorflow/plugin-sdk';
import { NoopParams } from './noop.params.js';

export const noopNode = defineNode<NoopParams>({
  type: 'core.noop',
  version: 1,
  title: 'No operation',
  description: 'Passes its input on unchanged, as a placeholder or a join point.',
  category: 'flow',
  inputs: ['main'],
  outputs: ['main'],
  params: NoopParams,
  pure: true,
  execute: (_ctx, input) => ({ main: input }),
});
