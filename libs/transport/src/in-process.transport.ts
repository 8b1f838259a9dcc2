import { NodeError, invokeNode, type OutboundFetch } from '@anchorflow/plugin-sdk';
import type { NodeCatalog, NodeJob, NodeJobEnvironment, NodeJobOutcome, NodeTransport } from '@anchorflow/engine';

/** Runs node jobs in this process: a direct call into the plugin's execute(). */
export class InProcessTransport implements NodeTransport {
  /** `fetch`: the guarded ctx.fetch built from the admin's outbound policy (default: nothing allow-listed) */
  constructor(
    private readonly catalog: NodeCatalog,
    private readonly options: { fetch?: OutboundFetch } = {},
  ) {}

  run(job: NodeJob, env: NodeJobEnvironment): Promise<NodeJobOutcome> {
    const def = this.catalog.get(job.nodeType);
    if (!def) return Promise.reject(new NodeError(`no plugin provides node type ${job.nodeType}`, 'UNKNOWN_NODE_TYPE'));
    const plugin = this.catalog.pluginOf(job.nodeType)!;
    return invokeNode(def, job, { ...env, state: env.state(plugin), ...(this.options.fetch ? { fetch: this.options.fetch } : {}) });
  }
}
