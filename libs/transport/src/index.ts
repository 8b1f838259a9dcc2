export * from './in-process.transport.js';
