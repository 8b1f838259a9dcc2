export * from './errors.js';
export * from './invoke.js';
export * from './node.js';
export * from './params.js';
export * from './plugin.js';
export * from './trigger.js';
export * from './validation.js';
export * from './testing/index.js';
