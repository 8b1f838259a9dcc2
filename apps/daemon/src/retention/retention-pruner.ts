import type { RetentionStore } from './retention.port.js';

export interface RetentionPolicy {
  /** finished executions older than this are deleted; undefined keeps them */
  maxAgeDays?: number;
  /** newest finished executions kept per workflow; undefined keeps all */
  maxPerWorkflow?: number;
  /** executions deleted per transaction */
  batchSize: number;
}

export interface PruneResult {
  byAge: number;
  byCount: number;
  /** workflows that had more than maxPerWorkflow finished executions */
  workflows: number;
  ms: number;
}

export const DAY_MS = 86_400_000;

export function retentionEnabled(policy: Pick<RetentionPolicy, 'maxAgeDays' | 'maxPerWorkflow'>): boolean {
  return policy.maxAgeDays !== undefined || policy.maxPerWorkflow !== undefined;
}

/**
 * One retention pass: the age rule, then the count rule per workflow, each in small batches until
 * nothing is left to delete. `shouldStop` is checked between batches (shutdown); `pause` runs between
 * batches so a big backlog does not monopolise the database.
 */
export async function pruneOnce(
  store: RetentionStore,
  policy: RetentionPolicy,
  options: { now?: () => number; shouldStop?: () => boolean; pause?: () => Promise<void> } = {},
): Promise<PruneResult> {
  const now = options.now ?? Date.now;
  const stop = options.shouldStop ?? (() => false);
  const pause = options.pause ?? (() => new Promise<void>((r) => setImmediate(r)));
  const t0 = now();
  const result: PruneResult = { byAge: 0, byCount: 0, workflows: 0, ms: 0 };
  if (policy.maxAgeDays !== undefined) {
    const cutoff = new Date(now() - policy.maxAgeDays * DAY_MS);
    for (;;) {
      if (stop()) break;
      const n = await store.pruneFinishedBefore(cutoff, policy.batchSize);
      result.byAge += n;
      if (n < policy.batchSize) break;
      await pause();
    }
  }
  if (policy.maxPerWorkflow !== undefined && !stop()) {
    const workflows = await store.workflowsOver(policy.maxPerWorkflow);
    result.workflows = workflows.length;
    for (const workflowId of workflows) {
      for (;;) {
        if (stop()) break;
        const n = await store.pruneWorkflowBeyond(workflowId, policy.maxPerWorkflow, policy.batchSize);
        result.byCount += n;
        if (n < policy.batchSize) break;
        await pause();
      }
    }
  }
  result.ms = now() - t0;
  return result;
}
