export * from './lease-holder.js';
export * from './service-host.js';
