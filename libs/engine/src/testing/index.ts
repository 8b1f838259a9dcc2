export * from './manual-clock.js';
export * from './memory-execution-store.js';
