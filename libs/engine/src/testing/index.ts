export * from './manual-clock.js';
export * from './memory-execution-store.js';
export * from './memory-named-leases.js';
