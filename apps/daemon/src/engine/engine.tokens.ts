/** DI token of the framework-free Engine (built in EngineModule's useFactory). */
export const ENGINE = Symbol('ENGINE');
/** DI token of the plugins loaded into this daemon (PluginDefinition[]). */
export const PLUGINS = Symbol('PLUGINS');
/** DI token of the loaded plugins: the node catalog and the rows of GET /api/v1/plugins (DaemonPlugins). */
export const DAEMON_PLUGINS = Symbol('DAEMON_PLUGINS');
/** DI token of this daemon's stable id (string). */
export const DAEMON_ID = Symbol('DAEMON_ID');
/** DI token of the NATS side of cluster mode (NatsCluster), or null without nats.url. */
export const NATS_CLUSTER = Symbol('NATS_CLUSTER');
/** DI token of the daemon's Prometheus registry and event-fed metrics (DaemonMetrics), made before the engine. */
export const DAEMON_METRICS = Symbol('DAEMON_METRICS');
/** DI token of the daemon's listening ports (OwnListeners), filled in after listen(): ctx.fetch refuses them. */
export const OWN_LISTENERS = Symbol('OWN_LISTENERS');
