/** Deletes finished executions (with their events). Implementations never touch unfinished ones. */
export interface RetentionStore {
  /** Deletes up to `limit` executions that finished before `cutoff`, oldest first; returns how many. */
  pruneFinishedBefore(cutoff: Date, limit: number): Promise<number>;
  /** Workflows with more than `keep` finished executions. */
  workflowsOver(keep: number): Promise<string[]>;
  /** Deletes up to `limit` of the workflow's finished executions beyond the newest `keep` (by start time); returns how many. */
  pruneWorkflowBeyond(workflowId: string, keep: number, limit: number): Promise<number>;
}
