import { type NodeContext, NodeError, isSuspension, outputPortsOf } from '@anchorflow/plugin-sdk';
import type { NodeCatalog, NodeJob, NodeJobEnvironment, NodeJobOutcome, NodeTransport } from '@anchorflow/engine';

/** Runs node jobs in this process: a direct call into the plugin's execute(). */
export class InProcessTransport implements NodeTransport {
  constructor(private readonly catalog: NodeCatalog) {}

  async run(job: NodeJob, env: NodeJobEnvironment): Promise<NodeJobOutcome> {
    const def = this.catalog.get(job.nodeType);
    if (!def) throw new NodeError(`no plugin provides node type ${job.nodeType}`, 'UNKNOWN_NODE_TYPE');
    const plugin = this.catalog.pluginOf(job.nodeType)!;
    const ctx: NodeContext<Record<string, unknown>> = {
      params: job.params,
      executionId: job.executionId,
      workflowId: job.workflowId,
      nodeId: job.nodeId,
      nodeType: job.nodeType,
      attempt: job.attempt,
      idempotencyKey: job.idempotencyKey,
      signal: env.signal,
      logger: env.logger,
      credentials: env.credentials,
      get state() {
        return env.state(plugin);
      },
      resume: job.resume,
      evaluate: (expression, input = job.input) => env.evaluate(expression, input),
      progress: env.progress,
      suspend: ({ until, token }) => ({ kind: 'suspend', ...(until !== undefined ? { until: +until } : {}), ...(token ? { token } : {}) }),
    };
    const result = await def.execute(ctx, job.input);
    if (isSuspension(result)) return { kind: 'suspend', until: result.until, token: result.token };
    if (result === null || typeof result !== 'object' || Array.isArray(result)) {
      throw new NodeError(`${job.nodeType} returned ${Array.isArray(result) ? 'an array' : typeof result} instead of { port: payload }`, 'INVALID_NODE_RESULT');
    }
    const ports = outputPortsOf(def, job.params);
    for (const port in result) {
      if (port !== 'error' && !ports.includes(port)) throw new NodeError(`${job.nodeType} emitted on unknown port "${port}"`, 'UNKNOWN_PORT');
    }
    return { kind: 'output', outputs: result };
  }
}
