import { invokeNode } from '@anchorflow/plugin-sdk';
import type { NodeCatalog } from '../catalog.js';
import type { NodeJob, NodeJobEnvironment, NodeJobOutcome, NodeTransport } from '../ports/node-transport.port.js';
import { MemoryPluginState } from '@anchorflow/plugin-sdk';

/** The engine's tests cannot import libs/transport (it depends on the engine); this is the same call. */
export class InProcessTransport implements NodeTransport {
  private readonly state = new MemoryPluginState();
  constructor(private readonly catalog: NodeCatalog) {}
  run(job: NodeJob, env: NodeJobEnvironment): Promise<NodeJobOutcome> {
    return invokeNode(this.catalog.get(job.nodeType)!, job, { ...env, state: this.state, metrics: env.metrics?.(this.catalog.pluginOf(job.nodeType) ?? 'unknown') });
  }
}
