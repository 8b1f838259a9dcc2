export * from './plugin-loader.js';
export * from './register-plugins.js';
export * from './worker-runtime.js';
export * from './services/index.js';
export * from './metrics/plugin-metrics.js';
