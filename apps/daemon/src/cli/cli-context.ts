import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import * as persistence from '@anchorflow/persistence';
import { ConfigError, loadConfig, readConfigFiles } from '../config/load-config.js';
import type { AnchorflowConfig } from '../config/config.schema.js';
import { CliError, EXIT } from './exit-codes.js';
import type { CliIo } from './io.js';

/** The daemon's configuration, as the daemon would load it (exit 78 with every problem otherwise). */
export function cliConfig(io: CliIo): AnchorflowConfig {
  try {
    return loadConfig(io.env, readConfigFiles(io.env, { cwd: io.cwd }));
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message, EXIT.CONFIG);
    throw err;
  }
}

/** A connection to the daemon's database for one CLI command. */
export interface CliDatabase {
  pool: persistence.SqlPool;
  url: string;
  /** where it came from, for messages */
  source: 'database.url' | 'running embedded server' | 'embedded server started for this command';
  close(): Promise<void>;
}

const quietLogger: persistence.DatabaseLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * The embedded PostgreSQL a running daemon started in `<dataDir>/pg`, if any: its port from
 * `postmaster.pid` and the password from `<dataDir>/pg.secret`. Connecting to it is the only safe way in
 * while the daemon runs: starting another server on that directory would stop the daemon's.
 */
export async function runningEmbeddedUrl(dataDir: string): Promise<string | undefined> {
  let pidFile: string;
  try {
    pidFile = await readFile(join(dataDir, 'pg', 'postmaster.pid'), 'utf8');
  } catch {
    return undefined;
  }
  const lines = pidFile.split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || pid <= 0 || !Number.isInteger(port) || port <= 0) return undefined;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return undefined;
  }
  const password = (await readFile(join(dataDir, 'pg.secret'), 'utf8')).trim();
  return `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/anchorflow`;
}

/**
 * database.url / DATABASE_URL when set; else the embedded server of a running daemon; else the embedded
 * server is started for the command (and stopped after). With `migrate`, pending migrations are applied
 * (MikroORM); otherwise only a raw pool is opened and nothing is changed.
 */
export async function openCliDatabase(config: AnchorflowConfig, io: CliIo, options: { migrate?: boolean } = {}): Promise<CliDatabase & { applied?: string[] }> {
  const dataDir = resolve(io.cwd, config.dataDir);
  let url = config.database.url;
  let source: CliDatabase['source'] = 'database.url';
  let server: persistence.EmbeddedPostgres | undefined;
  if (!url) {
    url = await runningEmbeddedUrl(dataDir);
    source = 'running embedded server';
  }
  if (!url) {
    try {
      server = await persistence.startEmbeddedPostgres({ dataDir, port: config.database.embeddedPort, logger: quietLogger });
    } catch (err) {
      throw new CliError(`cannot start the embedded PostgreSQL in ${dataDir}: ${(err as Error).message}`, EXIT.UNAVAILABLE);
    }
    url = server.url;
    source = 'embedded server started for this command';
  }
  const stopServer = async () => { await server?.stop().catch(() => undefined); };
  try {
    if (options.migrate) {
      const before = await persistence.executedMigrations(url);
      const db = await persistence.openDatabase({ databaseUrl: url, dataDir, logger: quietLogger, poolSize: 2 });
      const after = await persistence.executedMigrations(url);
      return { pool: db.pool, url, source, applied: after.filter((m) => !before.includes(m)), close: async () => { await db.close(); await stopServer(); } };
    }
    const pool = persistence.createSqlPool(url, { max: 2, applicationName: 'anchorflow-cli' });
    await persistence.pingDatabase(pool);
    return { pool, url, source, close: async () => { await pool.end().catch(() => undefined); await stopServer(); } };
  } catch (err) {
    await stopServer();
    if (err instanceof CliError) throw err;
    throw new CliError(`cannot use the database (${source}): ${(err as Error).message}`, EXIT.UNAVAILABLE);
  }
}


/** Runs `fn` with the database open, closing it whatever happens. */
export async function withDatabase<T>(io: CliIo, fn: (db: CliDatabase, config: AnchorflowConfig) => Promise<T>): Promise<T> {
  const config = cliConfig(io);
  const db = await openCliDatabase(config, io);
  try {
    return await fn(db, config);
  } catch (err) {
    // a missing table means the schema is older than this CLI
    if ((err as { code?: string }).code === '42P01') throw new CliError(`the database schema is not up to date (${(err as Error).message}); run \`anchorflow migrate\``, EXIT.FAILURE);
    throw err;
  } finally {
    await db.close();
  }
}
