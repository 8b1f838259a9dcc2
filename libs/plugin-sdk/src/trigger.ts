import type { CredentialsAccessor, NodeDefinition, NodeLogger, PluginState } from './node.js';
import { defineNode } from './node.js';
import type { ParamsClass } from './params.js';

export interface TriggerContext<P = Record<string, unknown>> {
  readonly params: P;
  readonly workflowId: string;
  readonly nodeId: string;
  readonly logger: NodeLogger;
  readonly credentials: CredentialsAccessor;
  /** plugin-owned durable state, e.g. an observer's block cursor */
  readonly state: PluginState;
  /** aborted when the workflow is deactivated or the daemon stops */
  readonly signal: AbortSignal;
}

export interface FireOptions {
  /** the same key never starts two executions of this workflow (e.g. a transaction hash) */
  dedupeKey?: string;
}

export type Fire = (payload: unknown, options?: FireOptions) => Promise<{ executionId: string; duplicate: boolean }>;

export interface TriggerDefinition<P extends object = any> {
  type: string;
  version: number;
  title: string;
  description?: string;
  params?: ParamsClass<P>;
  /** start the long-lived source; return a function that stops it */
  start(ctx: TriggerContext<P>, fire: Fire): Promise<() => Promise<void> | void> | (() => Promise<void> | void);
}

/** A trigger is a start node (it passes the fired payload on) plus a long-lived source started on activation. */
export type TriggerNodeDefinition<P extends object = any> = NodeDefinition<P> & { trigger: TriggerDefinition<P> };

export function defineTrigger<P extends object>(def: TriggerDefinition<P>): TriggerNodeDefinition<P> {
  const node = defineNode<P>({
    type: def.type,
    version: def.version,
    title: def.title,
    description: def.description,
    category: 'trigger',
    inputs: [],
    outputs: ['main'],
    params: def.params,
    pure: true,
    execute: (_ctx, input) => ({ main: input }),
  });
  return Object.freeze({ ...node, trigger: def });
}

export function isTriggerNode(def: NodeDefinition): def is TriggerNodeDefinition {
  return typeof (def as Partial<TriggerNodeDefinition>).trigger === 'object';
}
