import type { RetryPolicy } from '@anchorflow/plugin-sdk';

/** The editor's and the API's workflow format (ARCHITECTURE §3). */
export interface WorkflowNode {
  id: string;
  type: string;
  params?: Record<string, unknown>;
  position?: { x: number; y: number };
  retry?: Partial<RetryPolicy>;
  timeoutMs?: number;
  /**
   * What a failure (after the last attempt) does: `stop` fails the execution (default); `continue`
   * passes `{error}` on the main port; `errorPort` sends `{error}` out on the port `error`.
   */
  onError?: OnError;
  /** the first release's name for `onError: "errorPort"` (still accepted) */
  continueOnFail?: boolean;
  /** free text for humans */
  notes?: string;
}

export type OnError = 'stop' | 'continue' | 'errorPort';
export const ON_ERROR_VALUES: readonly OnError[] = ['stop', 'continue', 'errorPort'];

export interface WorkflowEdge {
  from: string;
  to: string;
  /** default `main` */
  fromPort?: string;
  /** default `main` */
  toPort?: string;
}

export interface WorkflowDefinition {
  name: string;
  description?: string;
  nodes: WorkflowNode[];
  edges: WorkflowEdge[];
  settings?: WorkflowSettings;
}

/** Workflow-wide settings. */
export interface WorkflowSettings {
  /** a workflow started with {executionId, workflowId, failedNode, error, input} when an execution of this one fails */
  errorWorkflowId?: string;
}

/** Something valid but probably not meant (the workflow is saved; the answer lists it). */
export interface ValidationWarning {
  code: 'UNUSED_ERROR_PORT';
  message: string;
  path: string;
  nodeId?: string;
}

/** A problem found by validation: what is wrong and where (JSON path into the submitted workflow). */
export interface ValidationProblem {
  code:
    | 'INVALID_SHAPE'
    | 'DUPLICATE_NODE_ID'
    | 'UNKNOWN_NODE_TYPE'
    | 'UNKNOWN_PORT'
    | 'INVALID_PARAMS'
    | 'INVALID_EXPRESSION'
    | 'DANGLING_EDGE'
    | 'DUPLICATE_EDGE'
    | 'CYCLE'
    | 'SUBWORKFLOW_CYCLE'
    | 'NO_START_NODE'
    | 'TOO_LARGE'
    /** a node param names a credential whose scopes exclude this workflow or node type (issue 17) */
    | 'CREDENTIAL_OUT_OF_SCOPE';
  message: string;
  path: string;
  nodeId?: string;
  /** for CYCLE: the nodes on the cycle, in order */
  nodes?: string[];
  /** for SUBWORKFLOW_CYCLE: the workflow ids on the cycle, from this workflow back to it */
  workflows?: string[];
}
