#!/usr/bin/env node
// Anchorflow plugin worker: `NATS_URL=nats://host:4222 node apps/worker/dist/main.js` (see worker-config.ts).
// The version check runs before anything else is imported: an old Node fails with a clear message.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 17)) {
  process.stderr.write(`anchorflow worker needs Node >= 22.17 (this is ${process.version}); use node_modules/.bin/node or npm run worker\n`);
  process.exit(1);
}
const { runWorker } = await import('./run-worker.js');
await runWorker(process.env);
