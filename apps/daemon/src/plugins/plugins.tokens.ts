import type { ServiceHealthEntry, ServiceStatus } from '@anchorflow/plugin-host';

/** DI token of the loaded plugins: the node catalog and the rows of GET /api/v1/plugins (DaemonPlugins). */
export const DAEMON_PLUGINS = Symbol('DAEMON_PLUGINS');

/** A live plugin worker (cluster mode), as GET /api/v1/plugins lists it. */
export interface WorkerRow {
  workerId: string;
  plugins: Array<{ name: string; version: string }>;
  nodeTypes: string[];
  lastSeen: string;
}

/** What runs the plugins in this daemon, as GET /api/v1/plugins reports it (provided by the engine module). */
export interface PluginRuntime {
  services(): ServiceStatus[];
  /** the ctx.health reports of the services running in this daemon (readiness lists them) */
  health(): ServiceHealthEntry[];
  /** cluster mode only: live plugin workers */
  workers(): WorkerRow[] | undefined;
}
/** DI token of PluginRuntime */
export const PLUGIN_RUNTIME = Symbol('PLUGIN_RUNTIME');
