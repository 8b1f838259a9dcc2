/** DI token of this daemon's stable id (string): it owns execution and named leases, NATS addresses it. */
export const DAEMON_ID = Symbol('DAEMON_ID');
/** the one Prometheus registry (DaemonMetrics): made before the store and the engine, which report into it */
export const DAEMON_METRICS = Symbol('DAEMON_METRICS');
