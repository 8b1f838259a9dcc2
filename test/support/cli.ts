/**
 * Runs the built `anchorflow` CLI (apps/daemon/dist/cli/main.js, built by `tsc -b`) on Node 24 from
 * node_modules/.bin, and helpers the ops suites share: an API client that sends an API key, direct SQL
 * on a daemon's database (external or its running embedded server).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { generateApiKey } from '@anchorflow/security';
import { Api } from './api.js';
import { type Daemon, NODE_BIN, REPO_ROOT } from './daemon.js';
import { withClient } from './pg-admin.js';

export const CLI_MAIN = path.join(REPO_ROOT, 'apps/daemon/dist/cli/main.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A fresh admin key (ANCHORFLOW_ADMIN_KEY for startDaemon, then sent by AuthedApi and the CLI). */
export function adminKey(): string {
  return generateApiKey().secret;
}

/** The environment the CLI sees for a daemon: its data dir and database, its URL and an API key. */
export function cliEnvFor(daemon: Daemon | undefined, apiKey?: string): Record<string, string | undefined> {
  return {
    ANCHORFLOW_DATA_DIR: daemon?.dataDir,
    DATABASE_URL: daemon?.databaseUrl,
    ANCHORFLOW_URL: daemon?.url,
    ANCHORFLOW_API_KEY: apiKey,
  };
}

/** `anchorflow <args>`; resolves when it exits (or kills it after timeoutMs and throws). */
export async function runCli(args: string[], options: { env?: Record<string, string | undefined>; cwd?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  if (!existsSync(CLI_MAIN)) throw new Error(`${CLI_MAIN} is missing: run \`tsc -b\` before the e2e suite`);
  const env: Record<string, string | undefined> = { ...process.env };
  delete env.NODE_OPTIONS;
  for (const key of Object.keys(env)) if (key.startsWith('ANCHORFLOW_') || key.startsWith('AF_E2E_') || key === 'DATABASE_URL' || key === 'NATS_URL' || key === 'PG_TEST_URL') delete env[key];
  env.ANCHORFLOW_LOG_LEVEL = 'warn';
  for (const [k, v] of Object.entries(options.env ?? {})) {
    if (v === undefined) delete env[k]; else env[k] = v;
  }
  const child = spawn(NODE_BIN, [CLI_MAIN, ...args], { cwd: options.cwd ?? REPO_ROOT, env: env as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => { stdout += c; });
  child.stderr.setEncoding('utf8').on('data', (c: string) => { stderr += c; });
  const timeoutMs = options.timeoutMs ?? 60_000;
  let timer: NodeJS.Timeout | undefined;
  const result = await Promise.race([
    new Promise<CliResult>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, stdout, stderr }))),
    new Promise<undefined>((resolve) => { timer = setTimeout(() => resolve(undefined), timeoutMs); }),
  ]);
  clearTimeout(timer);
  if (!result) {
    child.kill('SIGKILL');
    throw new Error(`anchorflow ${args.join(' ')} did not exit within ${timeoutMs} ms\n--- stdout ---\n${stdout}\n--- stderr ---\n${stderr}`);
  }
  // let the streams drain
  await new Promise((r) => setImmediate(r));
  return { ...result, stdout, stderr };
}

/** The test API client with a given API key (`Api` sends it as `Authorization: Bearer …`). */
export class AuthedApi extends Api {
  constructor(baseUrl: string, readonly apiKey: string) {
    super(baseUrl, { apiKey });
  }
}

/** The embedded server a running daemon started in its data dir (port from postmaster.pid, password from pg.secret). */
function runningEmbeddedUrl(dataDir: string): string | undefined {
  try {
    const port = Number(readFileSync(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[3]);
    const password = readFileSync(path.join(dataDir, 'pg.secret'), 'utf8').trim();
    return Number.isInteger(port) && port > 0 ? `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/anchorflow` : undefined;
  } catch {
    return undefined;
  }
}

/** A URL of the daemon's database: the external one, or its running embedded server. */
export async function databaseUrlOf(daemon: Daemon): Promise<string> {
  const url = daemon.databaseUrl ?? runningEmbeddedUrl(daemon.dataDir);
  if (!url) throw new Error(`no database reachable for the daemon with data dir ${daemon.dataDir}`);
  return url;
}

/** Runs SQL on the daemon's database. */
export async function sql<R = Record<string, unknown>>(daemon: Daemon, text: string, params?: unknown[]): Promise<R[]> {
  return withClient(await databaseUrlOf(daemon), async (c) => (await c.query(text, params)).rows as R[]);
}

/** Polls `fn` until it returns something other than undefined (deadline: throws with `what`). */
export async function eventually<T>(fn: () => Promise<T | undefined>, options: { timeoutMs?: number; intervalMs?: number; what: string }): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  let last: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${options.what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 100));
  }
}
