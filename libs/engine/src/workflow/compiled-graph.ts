import type { NodeDefinition, RetryPolicy } from '@anchorflow/plugin-sdk';
import type { OnError, ValidationWarning, WorkflowDefinition, WorkflowNode } from './workflow.types.js';

export interface CompiledEdge {
  from: number;
  to: number;
  fromPort: string;
  toPort: string;
}

export interface CompiledNode {
  index: number;
  id: string;
  spec: WorkflowNode;
  def: NodeDefinition;
  /** validated params (DTO instance with defaults) when they hold no expressions */
  params: Record<string, unknown>;
  /** params hold `=expressions`: evaluate + re-validate at run time */
  dynamicParams: boolean;
  retry: RetryPolicy;
  timeoutMs?: number;
  /** what a final failure does (continueOnFail: true is compiled to errorPort) */
  onError: OnError;
  pure: boolean;
  trigger: boolean;
  incoming: CompiledEdge[];
  outgoing: CompiledEdge[];
  /** distinct predecessor node indexes */
  predecessors: number[];
  /** distinct successor node indexes */
  successors: number[];
}

/** A validated workflow ready to run: index-based adjacency, topological order, sinks. */
export interface CompiledGraph {
  definition: WorkflowDefinition;
  nodes: CompiledNode[];
  byId: Map<string, CompiledNode>;
  /** Kahn order */
  order: number[];
  sinks: number[];
  triggers: number[];
  /** valid but probably not meant (e.g. an error port nobody listens to) */
  warnings: ValidationWarning[];
}
