import type { NodeCatalog, NodeJob, NodeJobEnvironment, NodeJobOutcome, NodeTransport } from '@anchorflow/engine';

/**
 * Sends each job where its node type lives: types registered from worker announcements
 * (`catalog.registerRemote`) go to the remote transport (NATS), everything else runs in this process.
 * A type the daemon loads itself is always run locally, even when workers serve it too.
 */
export class RoutingTransport implements NodeTransport {
  constructor(
    private readonly catalog: NodeCatalog,
    private readonly local: NodeTransport,
    private readonly remote: NodeTransport,
  ) {}

  run(job: NodeJob, env: NodeJobEnvironment): Promise<NodeJobOutcome> {
    return (this.catalog.isRemote(job.nodeType) ? this.remote : this.local).run(job, env);
  }
}
