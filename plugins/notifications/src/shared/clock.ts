import type { NodeContext } from '@anchorflow/plugin-sdk';

/** Epoch ms from the engine's clock (signature timestamps, durations): tests drive it with a manual clock. */
export function nowOf(ctx: NodeContext<object>): number {
  return ctx.now();
}
