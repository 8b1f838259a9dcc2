/**
 * Starts the real daemon (apps/daemon/dist/main.js, built by `tsc -b`) as a child process on Node 24
 * from node_modules/.bin, on a free port, and hands back where it listens.
 *
 * Contract with the daemon: env PORT=0, HOST=127.0.0.1, ANCHORFLOW_DATA_DIR, DATABASE_URL (absent →
 * embedded Postgres in the data dir); once ready it prints a JSON log line with `"event":"listening"`
 * and `"url":"http://127.0.0.1:<port>"` on stdout.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, chmodSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { currentRun, dbPrefix, testAdminKey } from './e2e-env.js';
import { createDatabase } from './pg-admin.js';
import { forgetPid, livePostmastersUnder, recordPid } from './processes.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const NODE_BIN = path.join(REPO_ROOT, 'node_modules/.bin/node');
export const DAEMON_MAIN = path.join(REPO_ROOT, 'apps/daemon/dist/main.js');

export interface StartDaemonOptions {
  /** reuse a data dir (restart); default: a fresh one under the run dir */
  dataDir?: string;
  /** extra environment; `undefined` removes a variable */
  env?: Record<string, string | undefined>;
  /**
   * Database: default follows the run (external → a database of its own per data dir, reused when the
   * same data dir is started again; embedded → no DATABASE_URL). `null` forces embedded. Daemons that
   * must share one database (cluster mode) get the same URL: `sharedDatabase()` or `other.databaseUrl`.
   */
  databaseUrl?: string | null;
  /** how long to wait for the listening line (default 90 s, E2E_DAEMON_START_TIMEOUT_MS) */
  startTimeoutMs?: number;
  /** a label for logs and errors */
  name?: string;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Daemon {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  readonly pid: number;
  readonly dataDir: string;
  /** undefined in embedded mode */
  readonly databaseUrl: string | undefined;
  /** epoch ms when the listening line arrived */
  readonly readyAt: number;
  /** SIGTERM, then await exit; throws (after a SIGKILL) if it does not exit in time */
  stop(timeoutMs?: number): Promise<ExitInfo>;
  /** SIGKILL, then await exit */
  kill(): Promise<ExitInfo>;
  /** everything it printed so far (stdout and stderr interleaved as received) */
  logs(): string;
  /** resolves when the process has exited */
  readonly exited: Promise<ExitInfo>;
  hasExited(): boolean;
  /** embedded Postgres servers still running from this daemon's data dir */
  livePostmasters(): Array<{ pid: number; pidFile: string }>;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of live) {
      try { child.kill('SIGKILL'); } catch { /* gone */ }
    }
  });
}

function freshDataDir(name: string): string {
  const dir = mkdtempSync(path.join(currentRun().runDir, `${name.replace(/[^a-z0-9-]/gi, '-')}-`));
  chmodSync(dir, 0o755);
  return dir;
}

/** The database a data dir is tied to is remembered beside it, so a restart reuses it. */
async function databaseFor(dataDir: string): Promise<string | undefined> {
  const run = currentRun();
  if (run.dbMode !== 'external' || !run.serverUrl) return undefined;
  const marker = `${dataDir}.database-url`;
  if (existsSync(marker)) return readFileSync(marker, 'utf8').trim();
  const name = `${dbPrefix(run.runId)}_${randomBytes(3).toString('hex')}`;
  const url = await createDatabase(run.serverUrl, name);
  writeFileSync(marker, url);
  return url;
}

/**
 * A fresh database of this run that several daemons can share (`startDaemon({ databaseUrl })`), or
 * undefined in an embedded run (then daemons cannot share one).
 */
export async function sharedDatabase(): Promise<string | undefined> {
  const run = currentRun();
  if (run.dbMode !== 'external' || !run.serverUrl) return undefined;
  return createDatabase(run.serverUrl, `${dbPrefix(run.runId)}_${randomBytes(3).toString('hex')}`);
}

function tail(text: string, max = 12_000): string {
  return text.length > max ? `…(${text.length - max} earlier chars cut)…\n${text.slice(-max)}` : text;
}

const MAX_LOG_CHARS = 8_000_000;

export async function startDaemon(options: StartDaemonOptions = {}): Promise<Daemon> {
  if (!existsSync(NODE_BIN)) throw new Error(`${NODE_BIN} is missing: the project pins Node 24 as a devDependency (npm ci)`);
  if (!existsSync(DAEMON_MAIN)) throw new Error(`${DAEMON_MAIN} is missing: run \`tsc -b\` before the e2e suite`);
  const name = options.name ?? 'daemon';
  const dataDir = options.dataDir ?? freshDataDir(name);
  const databaseUrl = options.databaseUrl === null ? undefined : options.databaseUrl ?? (await databaseFor(dataDir));

  const env: Record<string, string | undefined> = { ...process.env };
  // jest's flag for its own VM modules must not leak into the daemon; nor may the caller's database or config.
  delete env.NODE_OPTIONS;
  delete env.DATABASE_URL;
  delete env.PG_TEST_URL;
  // cluster mode only when a test asks for it (env: { NATS_URL })
  delete env.NATS_URL;
  for (const key of Object.keys(env)) if (key.startsWith('ANCHORFLOW_') || key.startsWith('AF_E2E_')) delete env[key];
  // every route but health and webhooks needs a key: the run's admin key (`env: { ANCHORFLOW_ADMIN_KEY: undefined }` for a first-start bootstrap)
  // the test receivers listen on loopback, which ctx.fetch refuses unless allow-listed (SSRF guard)
  Object.assign(env, { PORT: '0', HOST: '127.0.0.1', ANCHORFLOW_DATA_DIR: dataDir, ANCHORFLOW_ADMIN_KEY: testAdminKey(), ANCHORFLOW_OUTBOUND_ALLOW_HOSTS: '127.0.0.1' });
  if (databaseUrl) env.DATABASE_URL = databaseUrl;
  for (const [k, v] of Object.entries(options.env ?? {})) {
    if (v === undefined) delete env[k]; else env[k] = v;
  }

  installExitHook();
  const child = spawn(NODE_BIN, [DAEMON_MAIN], { cwd: REPO_ROOT, env: env as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not spawn ${NODE_BIN} ${DAEMON_MAIN}`);
  live.add(child);
  const runDir = currentRun().runDir;
  recordPid(runDir, pid, `${name} ${dataDir}`);

  let logText = '';
  const appendLog = (s: string): void => {
    logText += s;
    if (logText.length > MAX_LOG_CHARS) logText = logText.slice(-MAX_LOG_CHARS / 2);
  };

  let exitInfo: ExitInfo | undefined;
  const exited = new Promise<ExitInfo>((resolve) => {
    child.once('exit', (code, signal) => {
      exitInfo = { code, signal };
      live.delete(child);
      forgetPid(runDir, pid);
      resolve(exitInfo);
    });
  });

  const ready = new Promise<{ url: string }>((resolve, reject) => {
    let pending = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => appendLog(chunk));
    child.stdout.on('data', (chunk: string) => {
      appendLog(chunk);
      pending += chunk;
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl).trim();
        pending = pending.slice(nl + 1);
        if (!line.startsWith('{') || !line.includes('listening')) continue;
        try {
          const parsed = JSON.parse(line) as { event?: unknown; url?: unknown };
          if (parsed.event === 'listening' && typeof parsed.url === 'string') resolve({ url: parsed.url.replace(/\/$/, '') });
        } catch { /* not JSON: keep reading */ }
      }
    });
    void exited.then((info) => reject(new Error(`${name} (pid ${pid}) exited before listening (code ${info.code}, signal ${info.signal})\n--- daemon output ---\n${tail(logText)}`)));
  });

  const startTimeoutMs = options.startTimeoutMs ?? Number(process.env.E2E_DAEMON_START_TIMEOUT_MS ?? 90_000);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${name} (pid ${pid}) printed no {"event":"listening","url":…} line within ${startTimeoutMs} ms\n--- daemon output ---\n${tail(logText)}`)), startTimeoutMs);
  });
  let url: string;
  try {
    ({ url } = await Promise.race([ready, timeout]));
  } catch (err) {
    if (!exitInfo) {
      child.kill('SIGKILL');
      await exited;
    }
    throw err;
  } finally {
    clearTimeout(timer);
  }
  const readyAt = Date.now();

  const waitExit = async (ms: number): Promise<ExitInfo | undefined> => {
    let t: NodeJS.Timeout | undefined;
    const res = await Promise.race([exited, new Promise<undefined>((r) => { t = setTimeout(() => r(undefined), ms); })]);
    clearTimeout(t);
    return res;
  };

  return {
    url, pid, dataDir, databaseUrl, readyAt, exited,
    hasExited: () => exitInfo !== undefined,
    logs: () => logText,
    livePostmasters: () => livePostmastersUnder(dataDir),
    async stop(timeoutMs = 20_000): Promise<ExitInfo> {
      if (exitInfo) return exitInfo;
      child.kill('SIGTERM');
      const info = await waitExit(timeoutMs);
      if (info) return info;
      child.kill('SIGKILL');
      await exited;
      throw new Error(`${name} (pid ${pid}) did not exit within ${timeoutMs} ms of SIGTERM; killed\n--- daemon output ---\n${tail(logText)}`);
    },
    async kill(): Promise<ExitInfo> {
      if (exitInfo) return exitInfo;
      child.kill('SIGKILL');
      return exited;
    },
  };
}
