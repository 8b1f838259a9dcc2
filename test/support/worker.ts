/**
 * Starts the real plugin worker (apps/worker/dist/main.js, built by `tsc -b`) as a child process on
 * Node 24 and hands back its pid, its JSON log lines and ways to stop or kill it.
 *
 * Contract with the worker (apps/worker/README.md): configured by NATS_URL and ANCHORFLOW_WORKER_* /
 * ANCHORFLOW_NATS_PREFIX variables; logs JSON lines (pino) on stdout; `"msg":"worker ready"` once it
 * serves its node types; SIGTERM stops it gracefully (exit 0).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { NODE_BIN, REPO_ROOT, type ExitInfo } from './daemon.js';
import { currentRun } from './e2e-env.js';
import { forgetPid, recordPid } from './processes.js';

export const WORKER_MAIN = path.join(REPO_ROOT, 'apps/worker/dist/main.js');
export const EXAMPLE_PLUGIN_DIR = path.join(REPO_ROOT, 'plugins/example');

export interface WorkerLogLine {
  level: number;
  msg: string;
  [k: string]: unknown;
}

export interface StartWorkerOptions {
  natsUrl: string;
  /** must match the daemon's nats.prefix */
  prefix: string;
  /** package names or paths (default: the example plugin) */
  plugins?: string[];
  /** extra ANCHORFLOW_WORKER_* variables and the like; `undefined` removes one */
  env?: Record<string, string | undefined>;
  /** a label for errors */
  name?: string;
  /** how long to wait for "worker ready" (default 30 s) */
  readyTimeoutMs?: number;
}

export interface Worker {
  readonly pid: number;
  /** `<hostname>-<pid>` unless ANCHORFLOW_WORKER_ID is set: what the daemon lists */
  readonly workerId: string;
  readonly lines: readonly WorkerLogLine[];
  /** the first log line (seen or coming) that matches */
  waitForLog(match: (l: WorkerLogLine) => boolean, options?: { timeoutMs?: number; what?: string }): Promise<WorkerLogLine>;
  /** stdout and stderr as received */
  logs(): string;
  /** SIGTERM (graceful: jobs in flight finish or are handed back), then await exit */
  stop(timeoutMs?: number): Promise<ExitInfo>;
  /** SIGKILL, then await exit */
  kill(): Promise<ExitInfo>;
  readonly exited: Promise<ExitInfo>;
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) {
    try { child.kill('SIGKILL'); } catch { /* gone */ }
  }
});

export async function startWorker(options: StartWorkerOptions): Promise<Worker> {
  if (!existsSync(WORKER_MAIN)) throw new Error(`${WORKER_MAIN} is missing: run \`tsc -b\` before the e2e suite`);
  const name = options.name ?? 'worker';
  const env: Record<string, string | undefined> = { ...process.env };
  delete env.NODE_OPTIONS;
  for (const key of Object.keys(env)) if (key.startsWith('ANCHORFLOW_') || key.startsWith('AF_E2E_')) delete env[key];
  Object.assign(env, {
    NATS_URL: options.natsUrl,
    ANCHORFLOW_NATS_PREFIX: options.prefix,
    ANCHORFLOW_WORKER_PLUGINS: (options.plugins ?? [EXAMPLE_PLUGIN_DIR]).join(','),
    ANCHORFLOW_WORKER_PLUGINS_DIR: REPO_ROOT,
    // quick announcements and reconnects: a worker is listed as soon as it starts (it announces at once)
    // and dropped after three missed heartbeats, 3 s: a worker starved of CPU for a second or two on a
    // loaded machine is not taken for gone (its jobs would wait for a worker meanwhile)
    ANCHORFLOW_WORKER_HEARTBEAT_MS: '1000',
    ANCHORFLOW_NATS_RECONNECT_WAIT_MS: '100',
    ANCHORFLOW_LOG_LEVEL: 'debug',
    // the test receivers listen on loopback, which ctx.fetch refuses unless allow-listed (SSRF guard)
    ANCHORFLOW_OUTBOUND_ALLOW_HOSTS: '127.0.0.1',
  });
  for (const [k, v] of Object.entries(options.env ?? {})) {
    if (v === undefined) delete env[k]; else env[k] = v;
  }

  const child = spawn(NODE_BIN, [WORKER_MAIN], { cwd: REPO_ROOT, env: env as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not spawn ${NODE_BIN} ${WORKER_MAIN}`);
  live.add(child);
  const runDir = currentRun().runDir;
  recordPid(runDir, pid, `${name} (worker)`);

  const lines: WorkerLogLine[] = [];
  const listeners = new Set<(l: WorkerLogLine) => void>();
  let text = '';
  createInterface({ input: child.stdout! }).on('line', (line) => {
    text += `${line}\n`;
    let parsed: WorkerLogLine;
    try { parsed = JSON.parse(line) as WorkerLogLine; } catch { parsed = { level: 30, msg: line }; }
    lines.push(parsed);
    for (const l of [...listeners]) l(parsed);
  });
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => { text += chunk; });

  let exitInfo: ExitInfo | undefined;
  const exited = new Promise<ExitInfo>((resolve) => {
    child.once('exit', (code, signal) => {
      exitInfo = { code, signal };
      live.delete(child);
      forgetPid(runDir, pid);
      resolve(exitInfo);
    });
  });

  const waitForLog = (match: (l: WorkerLogLine) => boolean, opts: { timeoutMs?: number; what?: string } = {}): Promise<WorkerLogLine> => {
    const seen = lines.find(match);
    if (seen) return Promise.resolve(seen);
    const timeoutMs = opts.timeoutMs ?? 20_000;
    return new Promise((resolve, reject) => {
      const done = (): void => { clearTimeout(timer); listeners.delete(listener); };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${name} (pid ${pid}) did not log ${opts.what ?? 'the expected line'} within ${timeoutMs} ms\n--- worker output ---\n${text.slice(-8000)}`));
      }, timeoutMs);
      const listener = (l: WorkerLogLine): void => {
        if (!match(l)) return;
        done();
        resolve(l);
      };
      listeners.add(listener);
      void exited.then((info) => {
        if (!listeners.has(listener)) return;
        done();
        reject(new Error(`${name} (pid ${pid}) exited (code ${info.code}, signal ${info.signal}) before logging ${opts.what ?? 'the expected line'}\n--- worker output ---\n${text.slice(-8000)}`));
      });
    });
  };

  const ready = await waitForLog((l) => l.msg === 'worker ready', { timeoutMs: options.readyTimeoutMs ?? 30_000, what: '"worker ready"' });
  const workerId = String(ready.workerId);

  return {
    pid, workerId, lines, exited, waitForLog,
    logs: () => text,
    async stop(timeoutMs = 20_000): Promise<ExitInfo> {
      if (exitInfo) return exitInfo;
      child.kill('SIGTERM');
      let t: NodeJS.Timeout | undefined;
      const info = await Promise.race([exited, new Promise<undefined>((r) => { t = setTimeout(() => r(undefined), timeoutMs); })]);
      clearTimeout(t);
      if (info) return info;
      child.kill('SIGKILL');
      await exited;
      throw new Error(`${name} (pid ${pid}) did not exit within ${timeoutMs} ms of SIGTERM; killed\n--- worker output ---\n${text.slice(-8000)}`);
    },
    async kill(): Promise<ExitInfo> {
      if (exitInfo) return exitInfo;
      child.kill('SIGKILL');
      return exited;
    },
  };
}
