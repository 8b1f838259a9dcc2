import type { ExecutionEvent, ExecutionParent, ExecutionSummary, ExecutionView, NodeRunView } from '@anchorflow/engine';
import type { ErrorInfo } from '@anchorflow/plugin-sdk';

const iso = (ms: number | undefined): string | undefined => (typeof ms === 'number' && Number.isFinite(ms) ? new Date(ms).toISOString() : undefined);

/** Drops undefined fields so JSON shows only what is known. */
function compact<T extends Record<string, unknown>>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

/**
 * How every answer that refers to an execution without embedding it names it: `id`, as in the execution
 * itself (GET /executions/:id). `executionId` carries the same value for clients of the first release.
 */
export interface ExecutionRefDto {
  id: string;
  /** same as id (kept for compatibility) */
  executionId: string;
  status: ExecutionView['status'] | 'cancelling';
}

export function executionRef(id: string, status: ExecutionRefDto['status']): ExecutionRefDto {
  return { id, executionId: id, status };
}

export interface NodeRunDto {
  nodeId: string;
  status: NodeRunView['status'];
  attempt: number;
  input?: unknown;
  output?: unknown;
  error?: ErrorInfo;
  startedAt?: string;
  finishedAt?: string;
  /** when the last wait of this run ended (startedAt stays when it first started) */
  resumedAt?: string;
  retryAt?: string;
  waitUntil?: string;
  /** while waiting for a signal: POST /api/v1/resume/:token resumes it */
  resumeToken?: string;
}

export interface ExecutionDto {
  id: string;
  workflowId: string;
  version: number;
  status: ExecutionView['status'];
  input: unknown;
  output?: Record<string, unknown>;
  error?: ErrorInfo;
  triggerNodeId?: string;
  /** the execution that started this one: a core.subworkflow node's (reason subworkflow) or a failed one's (reason error) */
  parent?: ExecutionParent;
  startedAt: string;
  finishedAt?: string;
  /** nodes that failed although the execution went on (onError continue / errorPort) or stopped it */
  failedNodes?: string[];
  nodeRuns: NodeRunDto[];
}

export type ExecutionSummaryDto = Omit<ExecutionDto, 'nodeRuns' | 'input' | 'output'>;

export function toNodeRunDto(run: NodeRunView): NodeRunDto {
  return compact({
    nodeId: run.nodeId,
    status: run.status,
    attempt: run.attempt,
    // a stored projection may not carry the input; then it is left out rather than shown as null
    ...('input' in run && run.input !== undefined ? { input: run.input } : {}),
    output: run.output,
    error: run.error,
    startedAt: iso(run.startedAt),
    finishedAt: iso(run.finishedAt),
    resumedAt: iso(run.resumedAt),
    retryAt: iso(run.retryAt),
    waitUntil: iso(run.waitUntil),
    // reserved tokens (`approval:…`, `child:…`) are not for POST /resume: the approvals route and the engine deliver them
    resumeToken: run.status === 'waiting' && run.resumeToken && !run.resumeToken.includes(':') ? run.resumeToken : undefined,
  });
}

/** The API shape of an execution: `version` instead of workflowVersion, ISO times. */
export function toExecutionDto(view: ExecutionView): ExecutionDto {
  return compact({
    id: view.id,
    workflowId: view.workflowId,
    version: view.workflowVersion,
    status: view.status,
    input: view.input ?? null,
    output: view.output,
    error: view.error,
    triggerNodeId: view.triggerNodeId,
    parent: view.parent,
    startedAt: iso(view.startedAt)!,
    finishedAt: iso(view.finishedAt),
    failedNodes: view.failedNodes,
    nodeRuns: view.nodeRuns.map(toNodeRunDto),
  });
}

export function toExecutionSummaryDto(s: ExecutionSummary): ExecutionSummaryDto {
  return compact({
    id: s.id,
    workflowId: s.workflowId,
    version: s.workflowVersion,
    status: s.status,
    error: s.error,
    triggerNodeId: s.triggerNodeId,
    startedAt: iso(s.startedAt)!,
    finishedAt: iso(s.finishedAt),
    failedNodes: s.failedNodes,
  });
}

const TIME_FIELDS = ['at', 'startedAt', 'retryAt', 'until'] as const;

/** An event as stored, with its epoch-ms times as ISO strings. */
export function toEventDto(event: ExecutionEvent): Record<string, unknown> {
  const { type, seq, at, executionId, ...rest } = event as ExecutionEvent & Record<string, unknown>;
  const out: Record<string, unknown> = { seq, type, at, executionId, ...rest };
  for (const f of TIME_FIELDS) if (typeof out[f] === 'number') out[f] = iso(out[f] as number);
  return compact(out);
}
