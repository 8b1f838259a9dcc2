import type { ErrorInfo, NodeOutputs } from '@anchorflow/plugin-sdk';

/**
 * The append-only history of an execution. Every state change is one of these, numbered by `seq`
 * (1, 2, 3… per execution). Execution and node-run projections are folds of these events
 * (`applyEvent`), so they can always be rebuilt.
 * They are plain past-tense classes so Nest's EventBus can route them by type.
 */
abstract class BaseExecutionEvent {
  abstract readonly type: string;
  constructor(
    readonly executionId: string,
    readonly seq: number,
    /** epoch ms */
    readonly at: number,
  ) {}
}

/**
 * Who started an execution, when another execution did: a `core.subworkflow` node (`reason: subworkflow`,
 * `nodeId`; `wait`: the parent waits for it) or a failed execution whose workflow names it as its error
 * workflow (`reason: error`). `depth` counts the chain of parents (1 for a child of a top-level run).
 */
export interface ExecutionParent {
  executionId: string;
  workflowId: string;
  nodeId?: string;
  reason: 'subworkflow' | 'error';
  wait: boolean;
  depth: number;
}

export class ExecutionStartedEvent extends BaseExecutionEvent {
  readonly type = 'execution.started' as const;
  constructor(
    executionId: string, seq: number, at: number,
    readonly workflowId: string,
    readonly workflowVersion: number,
    readonly input: unknown,
    /** the trigger/start node that fired, if any */
    readonly triggerNodeId: string | undefined,
    readonly dedupeKey?: string,
    /** set when another execution started this one (sub-workflow, error workflow) */
    readonly parent?: ExecutionParent,
  ) { super(executionId, seq, at); }
}

/** Emitted before a node that is not pure runs, and made durable before its side effect. */
export class NodeStartedEvent extends BaseExecutionEvent {
  readonly type = 'node.started' as const;
  constructor(executionId: string, seq: number, at: number, readonly nodeId: string, readonly attempt: number) { super(executionId, seq, at); }
}

export class NodeSucceededEvent extends BaseExecutionEvent {
  readonly type = 'node.succeeded' as const;
  constructor(
    executionId: string, seq: number, at: number,
    readonly nodeId: string, readonly attempt: number,
    readonly output: NodeOutputs,
    /** epoch ms when this attempt started */
    readonly startedAt: number,
  ) { super(executionId, seq, at); }
}

export class NodeFailedEvent extends BaseExecutionEvent {
  readonly type = 'node.failed' as const;
  constructor(
    executionId: string, seq: number, at: number,
    readonly nodeId: string, readonly attempt: number,
    readonly error: ErrorInfo,
    readonly startedAt: number,
    /** set when another attempt is scheduled (epoch ms) */
    readonly retryAt?: number,
    /** the execution goes on past the failure (onError continue / errorPort) */
    readonly continued?: boolean,
    /** the port `{error}` went out on when continued: `error` (errorPort; also when absent) or `main` (continue) */
    readonly continuedOn?: 'main' | 'error',
  ) { super(executionId, seq, at); }
}

export class NodeSkippedEvent extends BaseExecutionEvent {
  readonly type = 'node.skipped' as const;
  constructor(executionId: string, seq: number, at: number, readonly nodeId: string) { super(executionId, seq, at); }
}

export class NodeWaitingEvent extends BaseExecutionEvent {
  readonly type = 'node.waiting' as const;
  constructor(
    executionId: string, seq: number, at: number,
    readonly nodeId: string, readonly attempt: number,
    readonly startedAt: number,
    readonly until?: number,
    readonly token?: string,
  ) { super(executionId, seq, at); }
}

export class NodeResumedEvent extends BaseExecutionEvent {
  readonly type = 'node.resumed' as const;
  constructor(
    executionId: string, seq: number, at: number,
    readonly nodeId: string,
    readonly reason: 'timer' | 'signal',
    readonly data?: unknown,
  ) { super(executionId, seq, at); }
}

/**
 * `attempt`/`startedAt`: the attempt that was running when it was cancelled. A pure node records no
 * node.started, so without them the view folded from the events would not match the live one.
 */
export class NodeCancelledEvent extends BaseExecutionEvent {
  readonly type = 'node.cancelled' as const;
  constructor(executionId: string, seq: number, at: number, readonly nodeId: string, readonly attempt?: number, readonly startedAt?: number) { super(executionId, seq, at); }
}

export class ExecutionCancelRequestedEvent extends BaseExecutionEvent {
  readonly type = 'execution.cancel-requested' as const;
  constructor(executionId: string, seq: number, at: number, readonly reason: string) { super(executionId, seq, at); }
}

export class ExecutionFinishedEvent extends BaseExecutionEvent {
  readonly type = 'execution.finished' as const;
  constructor(
    executionId: string, seq: number, at: number,
    readonly status: 'succeeded' | 'failed' | 'cancelled',
    readonly output?: Record<string, unknown>,
    readonly error?: ErrorInfo,
  ) { super(executionId, seq, at); }
}

export type ExecutionEvent =
  | ExecutionStartedEvent
  | NodeStartedEvent
  | NodeSucceededEvent
  | NodeFailedEvent
  | NodeSkippedEvent
  | NodeWaitingEvent
  | NodeResumedEvent
  | NodeCancelledEvent
  | ExecutionCancelRequestedEvent
  | ExecutionFinishedEvent;

export type ExecutionEventType = ExecutionEvent['type'];

/** Events read back from storage are plain objects of the same shape (classes carry no private state). */
