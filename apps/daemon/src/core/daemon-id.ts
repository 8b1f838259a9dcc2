import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';

export const DAEMON_ID_FILE = 'daemon-id';
const DAEMON_ID_RE = /^[A-Za-z0-9_-]{1,64}$/;

export interface ResolvedDaemonId {
  id: string;
  /** `config`: daemonId / ANCHORFLOW_DAEMON_ID; `file`: read from <dataDir>/daemon-id; `generated`: made now */
  source: 'config' | 'file' | 'generated';
  /** set when a generated id could not be written (it is derived, so it stays the same anyway) */
  warning?: string;
}

/** `<host name>-<8 hex of the data dir's absolute path>`: the same on every start from this data dir. */
export function derivedDaemonId(dataDir: string, host = hostname()): string {
  const name = host.replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 48) || 'daemon';
  return `${name}-${createHash('sha256').update(resolve(dataDir)).digest('hex').slice(0, 8)}`;
}

/**
 * The daemon's id must stay the same across restarts: NATS results and worker requests for its jobs are
 * addressed to it, and a restarted daemon picks up what its workers left for it. Configured → that;
 * otherwise the one kept in `<dataDir>/daemon-id`, written on the first start.
 */
export function resolveDaemonId(config: { daemonId?: string; dataDir: string }, opts: { host?: string; persist?: boolean } = {}): ResolvedDaemonId {
  const host = opts.host ?? hostname();
  if (config.daemonId) return { id: config.daemonId, source: 'config' };
  // in-memory specs: no data dir to keep it in
  if (opts.persist === false) return { id: derivedDaemonId(config.dataDir, host), source: 'generated' };
  const file = join(config.dataDir, DAEMON_ID_FILE);
  try {
    const kept = readFileSync(file, 'utf8').trim();
    if (DAEMON_ID_RE.test(kept)) return { id: kept, source: 'file' };
  } catch {
    // first start (or unreadable): generate below
  }
  const id = derivedDaemonId(config.dataDir, host);
  try {
    mkdirSync(config.dataDir, { recursive: true });
    writeFileSync(file, `${id}\n`);
    return { id, source: 'generated' };
  } catch (err) {
    return { id, source: 'generated', warning: `${file} not written (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` };
  }
}
