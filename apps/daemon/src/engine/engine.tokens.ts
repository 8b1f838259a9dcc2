/** DI token of the framework-free Engine (built in EngineModule's useFactory). */
export const ENGINE = Symbol('ENGINE');
/** DI token of the plugins loaded into this daemon (PluginDefinition[]). */
export const PLUGINS = Symbol('PLUGINS');
/** the loaded plugins belong to the plugins feature; re-exported for the engine's users */
export { DAEMON_PLUGINS } from '../plugins/plugins.tokens.js';
/** DI token of the plugin services of this daemon (ServiceHost from @anchorflow/plugin-host). */
export const PLUGIN_SERVICES = Symbol('PLUGIN_SERVICES');
/** DI token of what plugin services use (state, leases, resume, credentials), here and for workers over NATS (ServiceRpcHandlers). */
export const SERVICE_PORTS = Symbol('SERVICE_PORTS');
/** this daemon's id belongs to the core module; re-exported for the engine's users */
export { DAEMON_ID, DAEMON_METRICS } from '../core/core.tokens.js';
/** DI token of the NATS side of cluster mode (NatsCluster), or null without nats.url. */
export const NATS_CLUSTER = Symbol('NATS_CLUSTER');
/** DI token of the daemon's Prometheus registry and event-fed metrics (DaemonMetrics), made before the engine. */
/** DI token of the daemon's listening ports (OwnListeners), filled in after listen(): ctx.fetch refuses them. */
export const OWN_LISTENERS = Symbol('OWN_LISTENERS');
