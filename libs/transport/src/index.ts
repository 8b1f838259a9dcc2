export * from './in-process.transport.js';
export * from './nats/index.js';
