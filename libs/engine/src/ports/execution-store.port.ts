import type { ExecutionEvent } from '../events/execution-events.js';
import type { ExecutionView } from '../execution/execution.types.js';

/**
 * Where executions live. Appends are buffered and committed in groups (group commit); `durable()`
 * resolves once everything appended before the call is committed. The engine never waits for
 * durability on the hot path except where the outside world could observe the difference
 * (before a side effect, before acknowledging an execution, before reporting it finished).
 */
export interface ExecutionStore {
  /**
   * Append events of one execution (in seq order). `view` is called at commit time for the current
   * projection, so a burst of events costs one projection write.
   */
  append(events: readonly ExecutionEvent[], view: () => ExecutionView): void;
  /** resolves when every append made before this call is committed; rejects if the commit failed */
  durable(): Promise<void>;
  /** full history of one execution, in seq order */
  events(executionId: string): Promise<ExecutionEvent[]>;
  /** the stored projection */
  get(executionId: string): Promise<ExecutionView | undefined>;
  /** executions not in a terminal state (to resume after a restart) */
  unfinished(): Promise<string[]>;
  /** waiting/retrying executions whose wakeAt is at or before `before` (ownership: ExecutionLeases) */
  dueWakeUps(before: number, limit: number): Promise<Array<{ executionId: string; wakeAt: number }>>;
  /** who waits for this resume token */
  findResumeToken(token: string): Promise<{ executionId: string; nodeId: string } | undefined>;
  /** an execution already started by this trigger dedupe key */
  findByDedupeKey(workflowId: string, dedupeKey: string): Promise<string | undefined>;
}
