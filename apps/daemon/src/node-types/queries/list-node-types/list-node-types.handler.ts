import { Inject } from '@nestjs/common';
import { type IQueryHandler, QueryHandler } from '@nestjs/cqrs';
import type { Engine, NodeTypeInfo } from '@anchorflow/engine';
import { ENGINE, NATS_CLUSTER } from '../../../engine/engine.tokens.js';
import type { NatsCluster } from '../../../engine/nats-cluster.js';
import { ListNodeTypesQuery } from './list-node-types.query.js';

/** a catalog entry; remote types (served by plugin workers over NATS) list the live workers serving them */
export type NodeTypeItem = NodeTypeInfo & { workers?: string[] };

@QueryHandler(ListNodeTypesQuery)
export class ListNodeTypesHandler implements IQueryHandler<ListNodeTypesQuery> {
  private local?: NodeTypeInfo[];

  constructor(
    @Inject(ENGINE) private readonly engine: Pick<Engine, 'catalog'>,
    @Inject(NATS_CLUSTER) private readonly cluster: Pick<NatsCluster, 'liveWorkers'> | null = null,
  ) {}

  async execute(): Promise<{ items: NodeTypeItem[] }> {
    const catalog = this.engine.catalog;
    // local types are fixed once plugins are loaded; remote ones come and go with worker announcements
    if (!this.cluster) return { items: (this.local ??= catalog.list()) };
    return {
      items: catalog.list().map((t) => (t.remote ? { ...t, workers: this.cluster!.liveWorkers(t.type).map((w) => w.workerId) } : t)),
    };
  }
}
