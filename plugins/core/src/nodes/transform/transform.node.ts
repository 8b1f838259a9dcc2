import { defineNode, NodeError } from '@anchorflow/plugin-sdk';
import { evaluateParam, isJsonataFunction } from '../../shared/expression.js';
import { TransformParams } from './transform.params.js';

export const transformNode = defineNode<TransformParams>({
  type: 'core.transform',
  version: 1,
  title: 'Transform',
  description: 'Reshapes its input with a JSONata expression and emits the result.',
  category: 'transform',
  inputs: ['main'],
  outputs: ['main'],
  params: TransformParams,
  pure: true,
  async execute(ctx, input) {
    const result = await evaluateParam(ctx, 'expression', ctx.params.expression, input);
    if (isJsonataFunction(result)) {
      throw new NodeError('expression: the result is a function, which cannot be passed on; call it instead', 'TRANSFORM_RESULT_NOT_JSON', { param: 'expression' });
    }
    // No match is `undefined` in JSONata; stored as JSON that would vanish and the port would look silent
    // after a restart, so it goes out as null.
    return { main: result === undefined ? null : result };
  },
});
