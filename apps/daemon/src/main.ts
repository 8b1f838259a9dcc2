// No imports above the version guard: on an old Node the dependencies would fail first with a
// less helpful error.
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 17)) {
  process.stderr.write(
    `anchorflow: Node.js >= 22.17 is required, this is ${process.versions.node}.\n` +
      `Run it through npm (npm start uses the Node 24 the project installs in node_modules/.bin) or upgrade Node.\n`,
  );
  process.exit(1);
}

// V8's code cache on disk for every module loaded from here on (NODE_COMPILE_CACHE or <tmpdir>/node-compile-cache):
// loading the daemon's modules is most of its start-up; from the second start on they are not compiled again
(await import('node:module')).enableCompileCache?.();

try {
  const { runDaemon } = await import('./daemon.js');
  await runDaemon(process.env);
} catch (err) {
  process.stderr.write(`anchorflow: failed to start: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
}

export {};
