import { NodeError, type NodeDefinition, type PluginState } from '@anchorflow/plugin-sdk';
import { MemoryPluginState, runNode, type RunNodeOptions } from '@anchorflow/plugin-sdk/testing';

export interface Attempted {
  output?: Record<string, unknown>;
  /** every failed attempt's error, in order */
  errors: NodeError[];
  state: PluginState;
}

/**
 * Runs a node the way the engine's retry policy would (same idempotency key and plugin state, attempt
 * 1, 2, …) but without waiting out the backoff: retryable errors are collected and the next attempt
 * starts at once; a non-retryable one ends the run. The backoff itself (and Retry-After) is the engine's
 * job, covered by the daemon e2e.
 */
export async function runWithRetries(def: NodeDefinition, options: RunNodeOptions, maxAttempts = 5): Promise<Attempted> {
  const state = options.state ?? new MemoryPluginState();
  const errors: NodeError[] = [];
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    try {
      // the receivers of these specs listen on loopback, which ctx.fetch refuses unless allow-listed
      const r = await runNode(def, { outbound: { allowHosts: ['127.0.0.1'] }, ...options, state, attempt });
      if (r.kind !== 'output') throw new Error('unexpected suspension');
      return { output: r.outputs.main as Record<string, unknown>, errors, state };
    } catch (err) {
      if (!(err instanceof NodeError)) throw err;
      errors.push(err);
      if (!err.retryable) break;
    }
  }
  return { errors, state };
}
