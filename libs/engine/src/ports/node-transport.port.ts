import type { NodeLogger, NodeOutputs, PluginMetrics, PluginState, ResumeInfo, CredentialsAccessor } from '@anchorflow/plugin-sdk';

/** One node attempt to run, as it travels to wherever the node type lives (in-process or a worker). */
export interface NodeJob {
  executionId: string;
  workflowId: string;
  nodeId: string;
  nodeType: string;
  attempt: number;
  idempotencyKey: string;
  /** params with expressions evaluated */
  params: Record<string, unknown>;
  input: unknown;
  resume?: ResumeInfo;
  /** live source node ids, in edge order */
  sources?: readonly string[];
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
}

export type NodeJobOutcome = { kind: 'output'; outputs: NodeOutputs } | { kind: 'suspend'; until?: number; token?: string };

/** Runs node jobs. Throws what the node threw (NodeError / TransientNodeError / other). */
export interface NodeTransport {
  run(job: NodeJob, env: NodeJobEnvironment): Promise<NodeJobOutcome>;
}
