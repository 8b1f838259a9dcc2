import type { ChildExecutions, CredentialsAccessor, NodeInvocation, NodeInvocationOutcome, NodeLogger, PluginMetrics, PluginState } from '@anchorflow/plugin-sdk';

/**
 * One node attempt to run, as it travels to wherever the node type lives (in-process or a worker): the
 * SDK's NodeInvocation (what the plugin's execute() is called with) plus routing.
 */
export interface NodeJob extends NodeInvocation {
  nodeType: string;
  /** epoch ms after which the attempt is abandoned */
  deadline?: number;
}

/** What only the engine side can provide while a job runs. */
export interface NodeJobEnvironment {
  signal: AbortSignal;
  logger: NodeLogger;
  credentials: CredentialsAccessor;
  state: (plugin: string) => PluginState;
  /** the plugin's metrics (ctx.metrics); absent: none kept */
  metrics?: (plugin: string) => PluginMetrics;
  evaluate(expression: string, input: unknown): Promise<unknown>;
  progress(data: unknown): void;
  /** the engine's clock: nodes compute wake-up times from it, never from Date.now() */
  now(): number;
  /** ctx.executions: starting child workflows (in-process nodes only) */
  executions?: ChildExecutions;
}

/**
 * what a node attempt came to: the SDK's invocation outcome, with the outputs' serialized size (UTF-8
 * bytes of their JSON) when the transport measured it already, or an upper bound of it (the engine's
 * output quota then reuses it, and measures exactly only when the bound would go past the quota)
 */
export type NodeJobOutcome = NodeInvocationOutcome & { outputBytes?: number; outputBytesBound?: number };

/** Runs node jobs. Throws what the node threw (NodeError / TransientNodeError / other). */
export interface NodeTransport {
  run(job: NodeJob, env: NodeJobEnvironment): Promise<NodeJobOutcome>;
}
