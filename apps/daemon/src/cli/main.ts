#!/usr/bin/env node
// The `anchorflow` command line (bin in the root package.json). No imports above the version guard:
// on an old Node the dependencies would fail first with a less helpful error.
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 17)) {
  process.stderr.write(
    `anchorflow: Node.js >= 22.17 is required, this is ${process.versions.node}.\n` +
      `Run it with the Node 24 the project installs: node_modules/.bin/node apps/daemon/dist/cli/main.js …, or npx anchorflow …\n`,
  );
  process.exit(1);
}

// V8's code cache on disk for every module loaded from here on (NODE_COMPILE_CACHE or <tmpdir>/node-compile-cache):
// loading the daemon's modules is most of its start-up; from the second start on they are not compiled again
(await import('node:module')).enableCompileCache?.();

const { runCli } = await import('./program.js');
const outcome = await runCli(process.argv.slice(2));
// start and worker keep running (their own signal handling ends the process)
if (outcome !== 'running') {
  // process.exit() drops what a pipe has not taken yet (a long `anchorflow openapi | …`): flush first
  await Promise.all([process.stdout, process.stderr].map((stream) => new Promise<void>((resolve) => stream.write('', () => resolve()))));
  process.exit(outcome);
}

export {};
