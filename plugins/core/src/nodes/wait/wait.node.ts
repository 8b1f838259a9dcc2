import { defineNode } from '@anchorflow/plugin-sdk';
import { WaitParams } from './wait.params.js';

export const waitNode = defineNode<WaitParams>({
  type: 'core.wait',
  version: 1,
  title: 'Wait',
  description: 'Holds its input for a time, durably: the wait survives restarts and holds no memory meanwhile.',
  category: 'flow',
  inputs: ['main'],
  outputs: ['main'],
  params: WaitParams,
  execute(ctx, input) {
    // resumed by the engine's timer (or an early signal): the wait is over
    if (ctx.resume || ctx.params.ms === 0) return { main: input };
    return ctx.suspend({ until: ctx.now() + ctx.params.ms });
  },
});
