import type { NodeContext } from '@anchorflow/plugin-sdk';

/**
 * Epoch ms from the engine's clock when the SDK provides `ctx.now()` (issue 7), else the wall clock.
 * TODO: call ctx.now() directly once NodeContext.now is on main.
 */
export function nowOf(ctx: NodeContext<object>): number {
  const now = (ctx as unknown as { now?: () => number }).now;
  return typeof now === 'function' ? now.call(ctx) : Date.now();
}
