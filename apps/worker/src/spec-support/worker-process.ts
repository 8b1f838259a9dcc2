import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
export const nodeBin = join(repoRoot, 'node_modules', '.bin', 'node');
export const workerMain = join(repoRoot, 'apps', 'worker', 'dist', 'main.js');
export const e2ePlugin = join(repoRoot, 'apps', 'worker', 'src', 'spec-support', 'fixtures', 'e2e-plugin');

/** builds the worker and what it imports (incremental: a no-op when up to date) */
export async function buildWorker(): Promise<void> {
  await promisify(execFile)(join(repoRoot, 'node_modules', '.bin', 'tsc'), ['-b', 'apps/worker'], { cwd: repoRoot, timeout: 120_000 });
}

export interface LogLine {
  level: number;
  msg: string;
  [k: string]: unknown;
}

export interface WorkerProcess {
  child: ChildProcess;
  pid: number;
  logs: LogLine[];
  /** resolves with the first log line (seen or coming) that matches */
  log(match: (l: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  exited: Promise<number | null>;
}

/** starts `node apps/worker/dist/main.js` (Node 24 from node_modules/.bin) with the e2e plugin */
export function spawnWorker(natsUrl: string, prefix: string, env: Record<string, string> = {}): WorkerProcess {
  const child = spawn(nodeBin, [workerMain], {
    cwd: repoRoot,
    env: {
      PATH: process.env.PATH ?? '',
      NATS_URL: natsUrl,
      ANCHORFLOW_NATS_PREFIX: prefix,
      ANCHORFLOW_WORKER_PLUGINS: e2ePlugin,
      ANCHORFLOW_WORKER_HEARTBEAT_MS: '500',
      ANCHORFLOW_NATS_RECONNECT_WAIT_MS: '100',
      ANCHORFLOW_LOG_LEVEL: 'debug',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: LogLine[] = [];
  const listeners = new Set<(l: LogLine) => void>();
  const stderr: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    let l: LogLine;
    try {
      l = JSON.parse(line) as LogLine;
    } catch {
      l = { level: 30, msg: line };
    }
    logs.push(l);
    for (const fn of listeners) fn(l);
  });
  child.stderr!.on('data', (d: Buffer) => stderr.push(d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    pid: child.pid!,
    logs,
    exited,
    log(match, timeoutMs = 20_000) {
      const seen = logs.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          listeners.delete(l);
          reject(new Error(`worker ${child.pid} did not log the expected line within ${timeoutMs} ms; stderr: ${stderr.join('')}; last lines: ${logs.slice(-5).map((x) => x.msg).join(' | ')}`));
        }, timeoutMs);
        const l = (x: LogLine) => {
          if (!match(x)) return;
          clearTimeout(timer);
          listeners.delete(l);
          resolve(x);
        };
        listeners.add(l);
        void exited.then((code) => {
          if (!listeners.has(l)) return;
          clearTimeout(timer);
          listeners.delete(l);
          reject(new Error(`worker ${child.pid} exited (${code}) before logging the expected line; stderr: ${stderr.join('')}`));
        });
      });
    },
  };
}

/** SIGKILLs a worker started here and waits until it is gone */
export async function killWorker(w: WorkerProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
  if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill(signal);
  return w.exited;
}
