/** DI token of this daemon's stable id (string): it owns execution and named leases, NATS addresses it. */
export const DAEMON_ID = Symbol('DAEMON_ID');
