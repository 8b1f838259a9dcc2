/** Bookkeeping of the processes this run started, so teardown can end leftovers by their pid. */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, statSync } from 'node:fs';
import path from 'node:path';

export function pidDir(runDir: string): string {
  return path.join(runDir, 'pids');
}

export function recordPid(runDir: string, pid: number, what: string): void {
  mkdirSync(pidDir(runDir), { recursive: true });
  writeFileSync(path.join(pidDir(runDir), String(pid)), what);
}

export function forgetPid(runDir: string, pid: number): void {
  rmSync(path.join(pidDir(runDir), String(pid)), { force: true });
}

export function cmdlineOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
  } catch {
    return undefined;
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // a zombie still answers kill(0); /proc tells it apart
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z /.test(stat);
  } catch {
    return false;
  }
}

/** Postmasters (embedded Postgres) whose postmaster.pid lies under `dir` (searched a few levels deep) and that still run. */
export function livePostmastersUnder(dir: string, depth = 4): Array<{ pid: number; pidFile: string }> {
  const found: Array<{ pid: number; pidFile: string }> = [];
  const walk = (d: string, level: number): void => {
    let entries: string[];
    try { entries = readdirSync(d); } catch { return; }
    for (const name of entries) {
      const full = path.join(d, name);
      if (name === 'postmaster.pid') {
        const pid = Number(readFileSync(full, 'utf8').split('\n')[0]);
        if (Number.isInteger(pid) && pid > 0 && isAlive(pid) && (cmdlineOf(pid) ?? '').includes('postgres')) found.push({ pid, pidFile: full });
        continue;
      }
      if (level < depth) {
        try { if (statSync(full).isDirectory()) walk(full, level + 1); } catch { /* vanished */ }
      }
    }
  };
  walk(dir, 0);
  return found;
}
