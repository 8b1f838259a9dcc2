import type { Fire, NodeLogger, PluginState, TriggerNodeDefinition } from '@anchorflow/plugin-sdk';
import { MemoryPluginState, runService } from '@anchorflow/plugin-sdk/testing';
import { PaymentObserverConfig } from '../config.js';
import { followerService } from '../follower.service.js';

export interface Fired {
  payload: Record<string, unknown>;
  dedupeKey?: string;
}

const quiet: NodeLogger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

/** Starts a trigger the way the daemon would; `fired` holds the executions it started (dedupe applied like the engine). */
export async function startTrigger<P extends object>(def: TriggerNodeDefinition<P>, params: P, state: PluginState, workflowId = 'wf1', nodeId = 'pay') {
  const fired: Fired[] = [];
  const attempts: Fired[] = [];
  const keys = new Set<string>();
  const fire: Fire = async (payload, options) => {
    attempts.push({ payload: payload as Record<string, unknown>, dedupeKey: options?.dedupeKey });
    if (options?.dedupeKey && keys.has(options.dedupeKey)) return { executionId: 'dup', duplicate: true };
    if (options?.dedupeKey) keys.add(options.dedupeKey);
    fired.push({ payload: payload as Record<string, unknown>, dedupeKey: options?.dedupeKey });
    return { executionId: `ex${fired.length}`, duplicate: false };
  };
  const abort = new AbortController();
  const stopFn = await def.trigger.start({ params, workflowId, nodeId, logger: quiet, credentials: { get: async () => ({}) as never }, state, signal: abort.signal,
    now: () => Date.now(),
    sleepUntil: (at) => new Promise<void>((resolve) => void setTimeout(resolve, Math.max(0, at - Date.now()))),
    activation: 'v1',
  }, fire);
  return {
    fired,
    attempts,
    stop: async () => {
      abort.abort();
      await stopFn();
    },
  };
}

export async function startFollower(state: PluginState, config: Record<string, unknown>) {
  return runService(followerService, { configClass: PaymentObserverConfig, config: { pollIntervalMs: 30, ...config }, state });
}

export { MemoryPluginState };
