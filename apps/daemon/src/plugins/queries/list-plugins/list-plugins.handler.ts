import { Inject } from '@nestjs/common';
import { type IQueryHandler, QueryHandler } from '@nestjs/cqrs';
import type { ServiceStatus } from '@anchorflow/plugin-host';
import { DAEMON_ID } from '../../../core/core.tokens.js';
import type { DaemonPlugins, PluginRow } from '../../daemon-plugins.js';
import { DAEMON_PLUGINS, PLUGIN_RUNTIME, type PluginRuntime, type WorkerRow } from '../../plugins.tokens.js';
import { ListPluginsQuery } from './list-plugins.query.js';

export type { WorkerRow };

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
    @Inject(PLUGIN_RUNTIME) private readonly runtime: PluginRuntime,
    @Inject(DAEMON_ID) private readonly daemonId: string,
  ) {}

  async execute(): Promise<PluginsView> {
    const workers = this.runtime.workers();
    return { items: this.plugins.rows, daemonId: this.daemonId, services: this.runtime.services(), ...(workers ? { workers } : {}) };
  }
}
