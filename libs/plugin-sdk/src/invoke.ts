import { NodeError } from './errors.js';
import type { ChildExecutions, CredentialsAccessor, NodeContext, NodeDefinition, NodeLogger, NodeOutputs, PluginState, ResumeInfo } from './node.js';
import { isSuspension, outputPortsOf } from './node.js';
import { noopMetrics, type PluginMetrics } from './metrics.js';
import { credentialScopedFetch, defaultGuardedFetch, type OutboundFetch } from './outbound.js';

/** Everything about one node attempt that can travel as data (to a worker, over NATS). */
export interface NodeInvocation {
  executionId: string;
  workflowId: string;
  nodeId: string;
  attempt: number;
  idempotencyKey: string;
  /** final params: expressions already evaluated, validated */
  params: Record<string, unknown>;
  input: unknown;
  resume?: ResumeInfo;
  /** live source node ids, in edge order */
  sources?: readonly string[];
}

/** What the host (daemon or worker) provides around the attempt. */
export interface NodeHost {
  signal: AbortSignal;
  logger: NodeLogger;
  credentials: CredentialsAccessor;
  state: PluginState;
  /** the plugin's metrics; none kept when absent */
  metrics?: PluginMetrics;
  evaluate(expression: string, input: unknown): Promise<unknown>;
  progress(data: unknown): void;
  /** the host's clock (the engine's Clock port in the daemon); Date.now when absent */
  now?(): number;
  /** the guarded fetch built from the admin's outbound policy; the default policy (nothing allow-listed) when absent */
  fetch?: OutboundFetch;
  /** starting child workflows (the daemon's engine); absent in workers */
  executions?: ChildExecutions;
}

export type NodeInvocationOutcome = { kind: 'output'; outputs: NodeOutputs } | { kind: 'suspend'; until?: number; token?: string };

const suspend: NodeContext<Record<string, unknown>>['suspend'] = ({ until, token }) => ({ kind: 'suspend', ...(until !== undefined ? { until: +until } : {}), ...(token ? { token } : {}) });

/**
 * Runs a node's execute() with a context built from the invocation and the host, and checks what it
 * returns. The one place that turns "a node attempt" into a plugin call: the in-process transport,
 * plugin workers and the runNode() harness all go through here.
 */
export async function invokeNode(def: NodeDefinition, inv: NodeInvocation, host: NodeHost): Promise<NodeInvocationOutcome> {
  // a credential scoped to hosts narrows this attempt's ctx.fetch once the node resolved it (issue 17);
  // the scope is only built then: most attempts resolve no credential (issue 18: it was a third of what
  // an attempt's context allocated)
  const base = host.fetch ?? defaultGuardedFetch();
  let scoped: ReturnType<typeof credentialScopedFetch> | undefined;
  const ctx: NodeContext<Record<string, unknown>> = {
    params: inv.params,
    executionId: inv.executionId,
    workflowId: inv.workflowId,
    nodeId: inv.nodeId,
    nodeType: def.type,
    attempt: inv.attempt,
    idempotencyKey: inv.idempotencyKey,
    signal: host.signal,
    logger: host.logger,
    credentials: { get: async <T extends object>(ref: string) => (scoped ??= credentialScopedFetch(base)).track(await host.credentials.get<T>(ref)) },
    state: host.state,
    metrics: host.metrics ?? noopMetrics,
    resume: inv.resume,
    sources: inv.sources,
    evaluate: (expression, input = inv.input) => host.evaluate(expression, input),
    progress: host.progress,
    now: host.now ?? Date.now,
    fetch: (url, init) => (scoped ? scoped.fetch(url, init) : base(url, init)),
    ...(host.executions ? { executions: host.executions } : {}),
    suspend,
  };
  const result = await def.execute(ctx, inv.input);
  if (isSuspension(result)) return { kind: 'suspend', ...(result.until !== undefined ? { until: result.until } : {}), ...(result.token ? { token: result.token } : {}) };
  if (result === null || typeof result !== 'object' || Array.isArray(result)) {
    throw new NodeError(`${def.type} returned ${Array.isArray(result) ? 'an array' : result === null ? 'null' : typeof result} instead of { port: payload }`, 'INVALID_NODE_RESULT');
  }
  const ports = outputPortsOf(def, inv.params);
  for (const port in result) {
    if (port !== 'error' && !ports.includes(port)) throw new NodeError(`${def.type} emitted on unknown port "${port}"; its ports: ${ports.join(', ')}`, 'UNKNOWN_PORT');
  }
  return { kind: 'output', outputs: result };
}
