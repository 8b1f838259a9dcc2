import { defineService } from '@anchorflow/plugin-sdk';
import type { ExampleConfig } from '../../config.js';
import { TICK_COUNT_KEY, type Tick, WAITING_PREFIX, type WaitingTick } from './pending-ticks.js';

/** an entry nobody waits on for this many ticks is dropped (its execution was cancelled or deleted) */
const MAX_MISSES = 20;

/**
 * Ticks every `tickIntervalMs` and wakes every node waiting for the next tick (example.next-tick).
 * One per cluster: with several daemons on one database exactly one ticks, and another takes over when
 * it dies. Everything it needs to continue lives in plugin state, so a restart loses no waiting node.
 */
export const tickerService = defineService<ExampleConfig>({
  name: 'ticker',
  scope: 'one-per-cluster',
  start(ctx) {
    let running: Promise<void> = Promise.resolve();
    const tick = async (): Promise<void> => {
      const waiting = await ctx.state.list<WaitingTick>(WAITING_PREFIX);
      if (ctx.signal.aborted) return;
      const count = (await ctx.state.update<number>(TICK_COUNT_KEY, (n) => (n ?? 0) + 1)) ?? 1;
      const data: Tick = { tick: count, at: ctx.now() };
      for (const { key, value } of waiting) {
        if (ctx.signal.aborted) return;
        // resume first, then forget: a crash in between leaves an entry whose next resume finds no
        // waiting node (false), so a node is never woken twice
        const woken = await ctx.resume(value.token, data);
        if (woken || (value.misses ?? 0) + 1 >= MAX_MISSES) await ctx.state.delete(key);
        else await ctx.state.set(key, { ...value, misses: (value.misses ?? 0) + 1 });
      }
      if (waiting.length) ctx.logger.info('tick', { tick: count, woken: waiting.length });
    };
    const timer = setInterval(() => {
      running = running.then(tick).catch((err: unknown) => ctx.logger.warn('tick failed; next tick retries', { err: String(err) }));
    }, ctx.config.tickIntervalMs);
    return async () => {
      clearInterval(timer);
      await running;
    };
  },
});
