/**
 * What global setup decided for this run, handed to the test workers through the environment
 * (jest forks its workers after global setup, so they inherit process.env; with --runInBand it is the
 * same process). A copy is also written to `<runDir>/run.json` for humans.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, chmodSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export type DbMode = 'external' | 'embedded';

export interface E2eRun {
  runId: string;
  /** every daemon data dir of this run lives below it; removed by teardown */
  runDir: string;
  dbMode: DbMode;
  /** why this mode was chosen (printed by global setup) */
  dbReason: string;
  /** external mode: a URL of the server that may create databases (points at the maintenance db) */
  serverUrl?: string;
  /** external mode: the run's own database (af_e2e_<runId>); daemons get databases prefixed by it */
  databaseUrl?: string;
}

export const ENV = {
  runId: 'AF_E2E_RUN_ID',
  runDir: 'AF_E2E_RUN_DIR',
  dbMode: 'AF_E2E_DB_MODE',
  dbReason: 'AF_E2E_DB_REASON',
  serverUrl: 'AF_E2E_SERVER_URL',
  databaseUrl: 'AF_E2E_DATABASE_URL',
  adminKey: 'AF_E2E_ADMIN_KEY',
} as const;

/**
 * The admin API key of this run: `startDaemon()` provisions it (ANCHORFLOW_ADMIN_KEY) and the `Api`
 * client and `rawRequest` send it unless told otherwise. Made by global setup; a file run without it
 * makes one per process.
 */
export function testAdminKey(): string {
  let key = process.env[ENV.adminKey];
  if (!key) {
    key = `afk_${randomBytes(8).toString('hex')}_${randomBytes(32).toString('base64url')}`;
    process.env[ENV.adminKey] = key;
  }
  return key;
}

export function dbPrefix(runId: string): string {
  return `af_e2e_${runId}`;
}

let fallback: E2eRun | undefined;

/** The run's settings; without global setup (a file run by hand) an embedded run in a fresh temp dir. */
export function currentRun(): E2eRun {
  const runId = process.env[ENV.runId];
  const runDir = process.env[ENV.runDir];
  if (runId && runDir) {
    const dbMode = process.env[ENV.dbMode] === 'external' ? 'external' : 'embedded';
    return {
      runId, runDir, dbMode,
      dbReason: process.env[ENV.dbReason] ?? '',
      serverUrl: process.env[ENV.serverUrl],
      databaseUrl: process.env[ENV.databaseUrl],
    };
  }
  if (!fallback) {
    const dir = makeRunDir('nosetup');
    fallback = { runId: 'nosetup', runDir: dir, dbMode: 'embedded', dbReason: 'no global setup ran' };
  }
  return fallback;
}

/** A temp dir others (the unprivileged user embedded Postgres runs as) can traverse. */
export function makeRunDir(runId: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), `af-e2e-${runId}-`));
  chmodSync(dir, 0o755);
  return dir;
}
