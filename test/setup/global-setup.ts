/**
 * Decides the database for the whole e2e run, once:
 * - `E2E_DB=embedded` forces the embedded default (no DATABASE_URL: each daemon starts Postgres in its
 *   data dir). CI runs the suite a second time like that.
 * - otherwise `PG_TEST_URL` or `DATABASE_URL` names a server, or a PostgreSQL answering on
 *   127.0.0.1:5432 is used: a fresh database `af_e2e_<random>` is created, and each daemon of the run
 *   gets its own `af_e2e_<random>_<hex>` beside it (daemons sharing one database would resume each
 *   other's executions); teardown drops them all. `E2E_DB=external` or ANCHORFLOW_REQUIRE_SERVICES=1
 *   makes a missing server an error.
 * - with no server, the embedded default — and it says why.
 *
 * Jest loads this file (and global-teardown.ts) through its CommonJS require hook without the
 * moduleNameMapper, so it cannot import the `.js`-suffixed relative modules of test/support: it is
 * self-contained. The variable names must match test/support/e2e-env.ts (ENV).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

interface PgClient {
  connect(): Promise<void>;
  query(sql: string): Promise<unknown>;
  end(): Promise<void>;
  on(event: 'error', listener: (err: Error) => void): void;
}

async function withClient<T>(url: string, fn: (c: PgClient) => Promise<T>): Promise<T> {
  const specifier = 'pg'; // no @types/pg here: a variable specifier keeps tsc from asking for it
  const mod = (await import(specifier)) as { Client?: new (o: object) => PgClient; default?: { Client: new (o: object) => PgClient } };
  const Client = mod.Client ?? mod.default?.Client;
  if (!Client) throw new Error('the pg module has no Client export');
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined);
  await client.connect();
  try { return await fn(client); } finally { await client.end().catch(() => undefined); }
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<unparsable url>';
  }
}

function portAnswers(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean): void => { socket.destroy(); resolve(ok); };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

async function answers(url: string): Promise<boolean> {
  try {
    await withClient(url, (c) => c.query('SELECT 1'));
    return true;
  } catch {
    return false;
  }
}

async function chooseServer(): Promise<{ serverUrl?: string; reason: string }> {
  const forced = (process.env.E2E_DB ?? '').toLowerCase();
  if (forced === 'embedded') return { reason: 'E2E_DB=embedded forces the embedded default' };
  // CI (a machine that has PostgreSQL): falling back to embedded would hide a missing service
  const required = process.env.ANCHORFLOW_REQUIRE_SERVICES === '1';
  const given = process.env.PG_TEST_URL ? 'PG_TEST_URL' : process.env.DATABASE_URL ? 'DATABASE_URL' : undefined;
  if (given) {
    const url = process.env[given] as string;
    // creating databases needs a connection to some existing database: the URL as given
    if (!(await answers(url))) throw new Error(`${given} is set (${redact(url)}) but PostgreSQL does not answer there`);
    return { serverUrl: url, reason: `${given} is set (${redact(url)})` };
  }
  if (await portAnswers('127.0.0.1', 5432)) {
    const user = encodeURIComponent(os.userInfo().username);
    for (const candidate of ['postgres://postgres@127.0.0.1:5432/postgres', `postgres://${user}@127.0.0.1:5432/postgres`]) {
      if (await answers(candidate)) return { serverUrl: candidate, reason: `a PostgreSQL answers on 127.0.0.1:5432 (${redact(candidate)})` };
    }
    if (required) throw new Error('ANCHORFLOW_REQUIRE_SERVICES=1 but PostgreSQL on 127.0.0.1:5432 refused the users postgres and the current user (set PG_TEST_URL, or E2E_DB=embedded on purpose)');
    if (forced === 'external') throw new Error('E2E_DB=external but PostgreSQL on 127.0.0.1:5432 refused the users postgres and the current user');
    return { reason: 'something answers on 127.0.0.1:5432 but refused the users postgres and the current user' };
  }
  if (required) throw new Error('ANCHORFLOW_REQUIRE_SERVICES=1 but no PG_TEST_URL/DATABASE_URL and nothing answers on 127.0.0.1:5432 (E2E_DB=embedded runs without it on purpose)');
  if (forced === 'external') throw new Error('E2E_DB=external but no PG_TEST_URL/DATABASE_URL and nothing answers on 127.0.0.1:5432');
  return { reason: 'no PG_TEST_URL/DATABASE_URL and nothing answers on 127.0.0.1:5432' };
}

export default async function globalSetup(): Promise<void> {
  const runId = randomBytes(4).toString('hex');
  const runDir = mkdtempSync(path.join(os.tmpdir(), `af-e2e-${runId}-`));
  chmodSync(runDir, 0o755); // embedded Postgres runs as an unprivileged user and must traverse it
  const { serverUrl, reason } = await chooseServer();
  const dbName = `af_e2e_${runId}`;
  let databaseUrl: string | undefined;
  if (serverUrl) {
    await withClient(serverUrl, (c) => c.query(`CREATE DATABASE ${dbName}`));
    const u = new URL(serverUrl);
    u.pathname = `/${dbName}`;
    databaseUrl = u.toString();
    process.stdout.write(`\n[e2e] database: external PostgreSQL — ${reason}; run database ${dbName} (${redact(databaseUrl)}), one ${dbName}_<hex> per daemon\n`);
  } else {
    process.stdout.write(`\n[e2e] database: embedded Postgres in each daemon's data dir (no DATABASE_URL) — ${reason}\n`);
  }
  process.stdout.write(`[e2e] run ${runId}: data dirs under ${runDir}\n`);
  // test workers are forked after this and inherit the environment (and --runInBand shares it)
  process.env.AF_E2E_RUN_ID = runId;
  // the admin API key of every daemon of this run (ANCHORFLOW_ADMIN_KEY); the api client sends it
  process.env.AF_E2E_ADMIN_KEY = `afk_${randomBytes(8).toString('hex')}_${randomBytes(32).toString('base64url')}`;
  process.env.AF_E2E_RUN_DIR = runDir;
  process.env.AF_E2E_DB_MODE = serverUrl ? 'external' : 'embedded';
  process.env.AF_E2E_DB_REASON = reason;
  if (serverUrl) process.env.AF_E2E_SERVER_URL = serverUrl; else delete process.env.AF_E2E_SERVER_URL;
  if (databaseUrl) process.env.AF_E2E_DATABASE_URL = databaseUrl; else delete process.env.AF_E2E_DATABASE_URL;
  writeFileSync(path.join(runDir, 'run.json'), JSON.stringify({
    runId, runDir, dbMode: serverUrl ? 'external' : 'embedded', dbReason: reason,
    serverUrl: serverUrl && redact(serverUrl), databaseUrl: databaseUrl && redact(databaseUrl),
  }, null, 2));
}
