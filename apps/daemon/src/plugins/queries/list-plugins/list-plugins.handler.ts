import { Inject } from '@nestjs/common';
import { type IQueryHandler, QueryHandler } from '@nestjs/cqrs';
import { DAEMON_PLUGINS, NATS_CLUSTER } from '../../../engine/engine.tokens.js';
import type { NatsCluster } from '../../../engine/nats-cluster.js';
import type { DaemonPlugins, PluginRow } from '../../daemon-plugins.js';
import { ListPluginsQuery } from './list-plugins.query.js';

export interface WorkerRow {
  workerId: string;
  plugins: Array<{ name: string; version: string }>;
  nodeTypes: string[];
  lastSeen: string;
}

export interface PluginsView {
  /** plugins of this daemon: loaded (built-in or configured) and failed, with the reason */
  items: PluginRow[];
  /** cluster mode only: live plugin workers and what they serve */
  workers?: WorkerRow[];
}

@QueryHandler(ListPluginsQuery)
export class ListPluginsHandler implements IQueryHandler<ListPluginsQuery> {
  constructor(
    @Inject(DAEMON_PLUGINS) private readonly plugins: DaemonPlugins,
    @Inject(NATS_CLUSTER) private readonly cluster: NatsCluster | null,
  ) {}

  async execute(): Promise<PluginsView> {
    if (!this.cluster) return { items: this.plugins.rows };
    const workers = this.cluster.liveWorkers().map((w) => ({ workerId: w.workerId, plugins: w.plugins, nodeTypes: w.nodeTypes, lastSeen: new Date(w.lastSeen).toISOString() }));
    return { items: this.plugins.rows, workers };
  }
}
