import { defineNode } from '@anchorflow/plugin-sdk';
import { evaluateParam, jsonataBoolean } from '../../shared/expression.js';
import { IfParams } from './if.params.js';

export const ifNode = defineNode<IfParams>({
  type: 'core.if',
  version: 1,
  title: 'If',
  description: 'Passes its input on port `true` or `false` depending on a JSONata condition.',
  category: 'flow',
  inputs: ['main'],
  outputs: ['true', 'false'],
  params: IfParams,
  pure: true,
  async execute(ctx, input) {
    const value = await evaluateParam(ctx, 'condition', ctx.params.condition, input);
    return jsonataBoolean(value) ? { true: input } : { false: input };
  },
});
