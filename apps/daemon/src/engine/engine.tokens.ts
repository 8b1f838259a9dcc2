/** DI token of the framework-free Engine (built in EngineModule's useFactory). */
export const ENGINE = Symbol('ENGINE');
/** DI token of the plugins loaded into this daemon (PluginDefinition[]). */
export const PLUGINS = Symbol('PLUGINS');
/** DI token of the loaded plugins: the node catalog and the rows of GET /api/v1/plugins (DaemonPlugins). */
export const DAEMON_PLUGINS = Symbol('DAEMON_PLUGINS');
/** DI token of the plugin services of this daemon (ServiceHost from @anchorflow/plugin-host). */
export const PLUGIN_SERVICES = Symbol('PLUGIN_SERVICES');
/** DI token of what plugin services use (state, leases, resume, credentials), here and for workers over NATS (ServiceRpcHandlers). */
export const SERVICE_PORTS = Symbol('SERVICE_PORTS');
/** DI token of this daemon's stable id (string). */
export const DAEMON_ID = Symbol('DAEMON_ID');
/** DI token of the NATS side of cluster mode (NatsCluster), or null without nats.url. */
export const NATS_CLUSTER = Symbol('NATS_CLUSTER');
