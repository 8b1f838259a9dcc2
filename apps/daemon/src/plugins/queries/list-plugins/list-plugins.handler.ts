import { Inject } from '@nestjs/common';
import { type IQueryHandler, QueryHandler } from '@nestjs/cqrs';
import type { ServiceHost, ServiceStatus } from '@anchorflow/plugin-host';
import { DAEMON_ID, DAEMON_PLUGINS, NATS_CLUSTER, PLUGIN_SERVICES } from '../../../engine/engine.tokens.js';
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
  /** this daemon's id: one-per-cluster services run on one daemon only (`standby` elsewhere) */
  daemonId: string;
  /** the plugins' services in this daemon: running, standby (another daemon holds the lease), failed (with lastError, restarting) */
  services: ServiceStatus[];
  /** cluster mode only: live plugin workers and what they serve */
  workers?: WorkerRow[];
}

@QueryHandler(ListPluginsQuery)
export class ListPluginsHandler implements IQueryHandler<ListPluginsQuery> {
  constructor(
    @Inject(DAEMON_PLUGINS) private readonly plugins: DaemonPlugins,
    @Inject(NATS_CLUSTER) private readonly cluster: NatsCluster | null,
    @Inject(PLUGIN_SERVICES) private readonly services: ServiceHost,
    @Inject(DAEMON_ID) private readonly daemonId: string,
  ) {}

  async execute(): Promise<PluginsView> {
    const local = { items: this.plugins.rows, daemonId: this.daemonId, services: this.services.statuses() };
    if (!this.cluster) return local;
    const workers = this.cluster.liveWorkers().map((w) => ({ workerId: w.workerId, plugins: w.plugins, nodeTypes: w.nodeTypes, lastSeen: new Date(w.lastSeen).toISOString() }));
    return { ...local, workers };
  }
}
