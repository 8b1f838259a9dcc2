import type { ErrorInfo, NodeOutputs } from '@anchorflow/plugin-sdk';
import type { ExecutionParent } from '../events/execution-events.js';

export type ExecutionStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'waiting';
export type NodeRunStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped' | 'cancelled' | 'waiting';

export const TERMINAL_EXECUTION_STATUSES: readonly ExecutionStatus[] = ['succeeded', 'failed', 'cancelled'];

/** Projection of one node's runs in an execution (the latest attempt). */
export interface NodeRunView {
  nodeId: string;
  status: NodeRunStatus;
  attempt: number;
  input?: unknown;
  output?: NodeOutputs;
  error?: ErrorInfo;
  /** when the run started (a run resumed after a wait keeps its first start) */
  startedAt?: number;
  finishedAt?: number;
  /** when the last wait of this run ended */
  resumedAt?: number;
  /** next attempt time while a retry is scheduled */
  retryAt?: number;
  /** wake-up time / resume token while waiting */
  waitUntil?: number;
  resumeToken?: string;
}

/** Projection of an execution: what the API returns and what the store keeps as a row. */
export interface ExecutionView {
  id: string;
  workflowId: string;
  workflowVersion: number;
  status: ExecutionStatus;
  input: unknown;
  output?: Record<string, unknown>;
  error?: ErrorInfo;
  triggerNodeId?: string;
  dedupeKey?: string;
  /** the execution that started this one (sub-workflow or error workflow) */
  parent?: ExecutionParent;
  startedAt: number;
  finishedAt?: number;
  /**
   * nodes whose last attempt failed. With onError continue/errorPort an execution can succeed with
   * failed nodes: this says so without reading every node run.
   */
  failedNodes?: string[];
  /** last event seq applied */
  seq: number;
  /** earliest time something must happen without outside input (retry or timer), for the wake-up poller */
  wakeAt?: number;
  nodeRuns: NodeRunView[];
}
