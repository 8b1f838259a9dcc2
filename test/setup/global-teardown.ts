/**
 * Ends what the run left behind, each by its pid — daemons a failed test did not stop (recorded by
 * test/support/daemon.ts in <runDir>/pids) and embedded Postgres servers they orphaned (found by their
 * postmaster.pid under the run dir) — drops the run's databases and removes the run dir
 * (kept with E2E_KEEP=1). Self-contained for the same reason as global-setup.ts.
 */
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';

interface PgClient {
  connect(): Promise<void>;
  query(sql: string, params?: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>;
  end(): Promise<void>;
  on(event: 'error', listener: (err: Error) => void): void;
}

async function withClient<T>(url: string, fn: (c: PgClient) => Promise<T>): Promise<T> {
  const specifier = 'pg';
  const mod = (await import(specifier)) as { Client?: new (o: object) => PgClient; default?: { Client: new (o: object) => PgClient } };
  const Client = mod.Client ?? mod.default?.Client;
  if (!Client) throw new Error('the pg module has no Client export');
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined);
  await client.connect();
  try { return await fn(client); } finally { await client.end().catch(() => undefined); }
}

function cmdline(pid: number): string {
  try { return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' '); } catch { return ''; }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

async function waitGone(pids: number[], ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (pids.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
}

function postmasterPids(dir: string, depth: number): number[] {
  const out: number[] = [];
  let entries: string[];
  try { entries = readdirSync(dir); } catch { return out; }
  for (const name of entries) {
    const full = path.join(dir, name);
    if (name === 'postmaster.pid') {
      const pid = Number(readFileSync(full, 'utf8').split('\n')[0]);
      if (Number.isInteger(pid) && pid > 0 && alive(pid) && cmdline(pid).includes('postgres')) out.push(pid);
    } else if (depth > 0) {
      try { if (statSync(full).isDirectory()) out.push(...postmasterPids(full, depth - 1)); } catch { /* vanished */ }
    }
  }
  return out;
}

export default async function globalTeardown(): Promise<void> {
  const runId = process.env.AF_E2E_RUN_ID;
  const runDir = process.env.AF_E2E_RUN_DIR;
  if (!runId || !runDir) return;
  const pidDir = path.join(runDir, 'pids');
  const daemons = existsSync(pidDir)
    ? readdirSync(pidDir).map(Number).filter((pid) => Number.isInteger(pid) && alive(pid) && cmdline(pid).includes('main.js'))
    : [];
  for (const pid of daemons) {
    process.stdout.write(`[e2e] teardown: daemon pid ${pid} is still running — SIGKILL\n`);
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  }
  await waitGone(daemons, 5000);
  const postmasters = postmasterPids(runDir, 4);
  for (const pid of postmasters) {
    process.stdout.write(`[e2e] teardown: embedded Postgres pid ${pid} outlived its daemon — SIGINT\n`);
    try { process.kill(pid, 'SIGINT'); } catch { /* gone */ }
  }
  await waitGone(postmasters, 10_000);
  const serverUrl = process.env.AF_E2E_SERVER_URL;
  if (process.env.AF_E2E_DB_MODE === 'external' && serverUrl) {
    const prefix = `af_e2e_${runId}`;
    try {
      const dropped = await withClient(serverUrl, async (c) => {
        const { rows } = await c.query('SELECT datname FROM pg_database WHERE starts_with(datname, $1)', [prefix]);
        const names = rows.map((r) => String(r.datname)).filter((n) => /^[a-z0-9_]+$/.test(n));
        for (const name of names) {
          await c.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]);
          await c.query(`DROP DATABASE IF EXISTS ${name}`);
        }
        return names;
      });
      process.stdout.write(`[e2e] teardown: dropped ${dropped.length} database(s) ${prefix}*\n`);
    } catch (err) {
      process.stdout.write(`[e2e] teardown: could not drop ${prefix}*: ${(err as Error).message}\n`);
    }
  }
  if (process.env.E2E_KEEP === '1') process.stdout.write(`[e2e] teardown: kept ${runDir} (E2E_KEEP=1)\n`);
  else rmSync(runDir, { recursive: true, force: true });
}
