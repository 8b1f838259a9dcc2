// Node-RED as a benchmark target, in any clone: installs node-red@NODE_RED_VERSION (4.1.8, what the peers'
// benchmark measured) by itself into a cache directory outside the repository, then for each start: a fresh
// userDir, a provisioning boot that imports W1/W2 through Node-RED's own Admin API (POST /admin/flows, like
// the peers did), a stop, and the measured boot that loads them from its flow file.
//   NODE_RED_DIR (default ${XDG_CACHE_HOME:-~/.cache}/anchorflow-bench/node-red-<version>) NODE_RED_VERSION (4.1.8)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { NODE, freePort, pinned, spawnServer, stopProcess, waitFor200 } from './targets.js';
import { nodeRedFlows } from './workflows.js';

export const NODE_RED_VERSION = process.env.NODE_RED_VERSION ?? '4.1.8';
export const NODE_RED_DIR = process.env.NODE_RED_DIR
  ?? join(process.env.XDG_CACHE_HOME ?? join(os.homedir(), '.cache'), 'anchorflow-bench', `node-red-${NODE_RED_VERSION}`);
const RED_JS = join(NODE_RED_DIR, 'node_modules/node-red/red.js');

/** the installed version, or undefined */
function installedVersion() {
  try {
    return JSON.parse(readFileSync(join(NODE_RED_DIR, 'node_modules/node-red/package.json'), 'utf8')).version;
  } catch {
    return undefined;
  }
}

/**
 * Installs Node-RED into NODE_RED_DIR unless that version is there; {version, dir, installSeconds?} or
 * {skipped: why}. npm from PATH, production dependencies only, nothing compiled (its bcrypt is a
 * platform package).
 */
export function ensureNodeRed(log = () => undefined) {
  if (installedVersion() === NODE_RED_VERSION) return { version: NODE_RED_VERSION, dir: NODE_RED_DIR };
  log(`node-red: installing node-red@${NODE_RED_VERSION} into ${NODE_RED_DIR} (outside the repository)`);
  rmSync(NODE_RED_DIR, { recursive: true, force: true });
  mkdirSync(NODE_RED_DIR, { recursive: true });
  writeFileSync(join(NODE_RED_DIR, 'package.json'), `${JSON.stringify({ name: 'anchorflow-bench-node-red', private: true })}\n`);
  const t0 = performance.now();
  const r = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--omit=dev', '--loglevel=error', `node-red@${NODE_RED_VERSION}`], {
    cwd: NODE_RED_DIR, encoding: 'utf8', timeout: 600_000,
  });
  const installSeconds = +((performance.now() - t0) / 1000).toFixed(1);
  if (r.status !== 0 || installedVersion() !== NODE_RED_VERSION) {
    return { skipped: `npm install node-red@${NODE_RED_VERSION} failed (${r.status ?? r.signal}): ${(r.stderr || r.stdout || '').trim().slice(-500)}` };
  }
  return { version: NODE_RED_VERSION, dir: NODE_RED_DIR, installSeconds };
}

/** the peers' settings (../shared/bench-peers/nodered-settings.js): loopback only, admin API at /admin, logging at warn, telemetry off */
const SETTINGS = `module.exports = {
  uiPort: Number(process.env.PORT || 18081),
  uiHost: '127.0.0.1',
  flowFile: 'flows.json',
  httpAdminRoot: '/admin',
  httpNodeRoot: '/',
  logging: { console: { level: 'warn', metrics: false, audit: false } },
  diagnostics: { enabled: false, ui: false },
  telemetry: { enabled: false },
  externalModules: { autoInstall: false, palette: { allowInstall: false } },
  editorTheme: { tours: false, projects: { enabled: false } },
  functionExternalModules: false,
};
`;

/**
 * Node-RED on a fresh userDir with W1/W2 imported through its Admin API; {name, kind, urls, child,
 * startup, pids(), stop()} like the other targets. Runs on our Node (24), like the daemon.
 */
export async function startNodeRed({ name, cpu, outDir, keepData = false }) {
  const userDir = mkdtempSync(join(os.tmpdir(), `af-bench-${name}-`));
  writeFileSync(join(userDir, 'settings.js'), SETTINGS);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const argv = [NODE, RED_JS, '--settings', join(userDir, 'settings.js'), '--userDir', userDir];
  const env = { ...process.env, PORT: String(port) };
  delete env.NODE_OPTIONS;
  const cleanup = () => {
    if (!keepData) rmSync(userDir, { recursive: true, force: true });
  };
  // provisioning boot: import the flows through the Admin API, check they serve, stop
  let importMs;
  {
    const { child } = await spawnServer(argv, { env, logFile: join(outDir, `${name}.provision.log`) });
    try {
      const t0 = performance.now();
      let ok = false;
      while (!ok && performance.now() - t0 < 60_000 && child.exitCode === null) {
        ok = await fetch(`${base}/admin/flows`).then((r) => r.ok, () => false);
        if (!ok) await new Promise((r) => setTimeout(r, 100));
      }
      if (!ok) throw new Error(`node-red admin API did not answer (see ${name}.provision.log)`);
      const ti = performance.now();
      const res = await fetch(`${base}/admin/flows`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'Node-RED-Deployment-Type': 'full' },
        body: JSON.stringify(nodeRedFlows()),
      });
      if (!res.ok) throw new Error(`node-red flow import: ${res.status} ${await res.text()}`);
      importMs = Math.round(performance.now() - ti);
      await waitFor200(`${base}/w1`, 30_000, () => child.exitCode === null);
    } catch (err) {
      await stopProcess(child);
      cleanup();
      throw err;
    }
    await stopProcess(child);
  }
  // the measured boot: flows loaded from the flow file the import wrote
  const t0 = performance.now();
  const { child } = await spawnServer(pinned(cpu, argv), { env, logFile: join(outDir, `${name}.server.log`) });
  const urls = { w1: `${base}/w1`, w2: `${base}/w2` };
  try {
    await waitFor200(urls.w1, 120_000, () => child.exitCode === null);
  } catch (err) {
    await stopProcess(child);
    cleanup();
    throw err;
  }
  return {
    name, kind: 'node-red', base, urls, child,
    startup: { firstOkMs: Math.round(performance.now() - t0), importMs },
    pids: () => [child.pid],
    async stop() {
      const how = await stopProcess(child);
      cleanup();
      return how;
    },
  };
}

export const nodeRedPresent = () => existsSync(RED_JS);
