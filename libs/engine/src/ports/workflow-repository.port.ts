import type { ExecutionStatus, ExecutionView } from '../execution/execution.types.js';
import type { ExecutionEvent } from '../events/execution-events.js';
import type { WorkflowSource } from './workflow-source.port.js';
import type { WorkflowDefinition } from '../workflow/workflow.types.js';

export interface StoredWorkflow {
  id: string;
  name: string;
  version: number;
  active: boolean;
  definition: WorkflowDefinition;
  /** ISO timestamps */
  createdAt: string;
  updatedAt: string;
}

export type WorkflowSummary = Omit<StoredWorkflow, 'definition'> & { nodeCount: number };

export interface Page<T> {
  items: T[];
  /** opaque; pass back to get the next page */
  nextCursor?: string;
}

/** Workflows and their immutable versions. Throws EngineError NOT_FOUND / CONFLICT. */
export interface WorkflowRepository extends WorkflowSource {
  create(definition: WorkflowDefinition): Promise<StoredWorkflow>;
  /** latest version, or the given one */
  get(id: string, version?: number): Promise<StoredWorkflow | undefined>;
  list(query: { limit: number; cursor?: string; active?: boolean }): Promise<Page<WorkflowSummary>>;
  /** new version; `expectedVersion` must equal the current one (optimistic), else CONFLICT */
  update(id: string, expectedVersion: number, definition: WorkflowDefinition): Promise<StoredWorkflow>;
  /** soft delete; false when absent */
  delete(id: string): Promise<boolean>;
  setActive(id: string, active: boolean): Promise<StoredWorkflow>;
  /** active workflows at their latest version (triggers to start) */
  listActive(): Promise<StoredWorkflow[]>;
}

export type ExecutionSummary = Omit<ExecutionView, 'nodeRuns' | 'input' | 'output'>;

/** Read side of executions for the API. */
export interface ExecutionReader {
  get(id: string): Promise<ExecutionView | undefined>;
  /** `hashes`: keep each event's history-chain `hash` (the receipt export); left out otherwise */
  events(id: string, options?: { afterSeq?: number; limit?: number; hashes?: boolean }): Promise<ExecutionEvent[]>;
  list(query: { workflowId?: string; status?: ExecutionStatus; limit: number; cursor?: string }): Promise<Page<ExecutionSummary>>;
  /** unfinished executions of the whole cluster by status (queued, running, waiting): the metrics' queue depth */
  countUnfinished?(): Promise<Partial<Record<ExecutionStatus, number>>>;
}
