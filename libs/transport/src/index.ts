/** the in-process transport lives with the engine (one declaration); re-exported beside the NATS one */
export { InProcessTransport } from '@anchorflow/engine';
export * from './nats/index.js';
