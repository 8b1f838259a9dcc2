export * from './connection.js';
export * from './messages.js';
export * from './nats.transport.js';
export * from './remote-node-registry.js';
export * from './routing.transport.js';
export * from './subjects.js';
export * from './wire-errors.js';
export * from './worker-host.js';
