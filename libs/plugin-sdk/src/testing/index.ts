export * from './memory-plugin-state.js';
export * from './run-node.js';
export * from './run-service.js';
export * from './recording-metrics.js';
export * from './run-trigger.js';
