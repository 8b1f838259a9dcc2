import { NodeError, invokeNode } from '@anchorflow/plugin-sdk';
import type { NodeCatalog, NodeJob, NodeJobEnvironment, NodeJobOutcome, NodeTransport } from '@anchorflow/engine';

/** Runs node jobs in this process: a direct call into the plugin's execute(). */
export class InProcessTransport implements NodeTransport {
  constructor(private readonly catalog: NodeCatalog) {}

  run(job: NodeJob, env: NodeJobEnvironment): Promise<NodeJobOutcome> {
    const def = this.catalog.get(job.nodeType);
    if (!def) return Promise.reject(new NodeError(`no plugin provides node type ${job.nodeType}`, 'UNKNOWN_NODE_TYPE'));
    const plugin = this.catalog.pluginOf(job.nodeType)!;
    return invokeNode(def, job, { ...env, state: env.state(plugin), metrics: env.metrics?.(plugin) });
  }
}
