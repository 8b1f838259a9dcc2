import { defineNode } from '@anchorflow/plugin-sdk';
import { type Tick, WAITING_PREFIX, type WaitingTick, tickToken } from '../../services/ticker/pending-ticks.js';

/**
 * Waits for the ticker service's next tick: records itself in plugin state and suspends on a token
 * (holding no memory, surviving restarts); the service resumes it with the tick. Shows how a node and a
 * plugin service work together.
 */
export const nextTickNode = defineNode({
  type: 'example.next-tick',
  version: 1,
  title: 'Wait for the next tick',
  description: "Suspends until the example plugin's ticker service ticks, then passes its input on with the tick.",
  category: 'flow',
  inputs: ['main'],
  outputs: ['main'],
  async execute(ctx, input) {
    if (ctx.resume?.reason === 'signal') return { main: { input, ...(ctx.resume.data as Tick) } };
    const token = tickToken(ctx.idempotencyKey);
    // the same key on a re-run after a crash: written again, not twice
    await ctx.state.set(`${WAITING_PREFIX}${token}`, { token } satisfies WaitingTick);
    return ctx.suspend({ token });
  },
});
