import pg from 'pg';
import { MikroORM } from '@mikro-orm/postgresql';
import type { DatabaseLogger } from './database-logger.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded-postgres.js';
import { ormConfig } from './orm-config.js';
import { createSqlPool, type SqlPool } from './sql-pool.js';

export interface OpenDatabaseOptions {
  /** external PostgreSQL; when absent an embedded server runs in `<dataDir>/pg` */
  databaseUrl?: string;
  dataDir: string;
  /** fixed port for the embedded server; a free one is picked on every start otherwise */
  embeddedPort?: number;
  logger?: DatabaseLogger;
  /** connections of the raw SQL pool the adapters use (default 10) */
  poolSize?: number;
}

export interface Database {
  orm: MikroORM;
  /** raw SQL pool on the same database, for the hot path (execution store) and other adapters */
  pool: SqlPool;
  url: string;
  embedded: boolean;
  /** closes the pool and the ORM and stops the embedded server; flush/close the store first */
  close(): Promise<void>;
}

/** any constant shared by every Anchorflow process: the advisory lock serialising migrations */
const MIGRATION_LOCK = 0x616e6368; // "anch"

/**
 * Applies pending migrations while holding a session advisory lock, so daemons started at the same moment
 * on one empty database migrate one after the other (the second finds nothing to do) instead of both
 * creating the same tables and failing on a duplicate type.
 */
async function migrateOnce(url: string, orm: MikroORM): Promise<void> {
  const lock = new pg.Client({ connectionString: url });
  lock.on('error', () => undefined);
  await lock.connect();
  try {
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await orm.migrator.up();
  } finally {
    await lock.end().catch(() => undefined); // ending the session releases the lock
  }
}

/** Connects (starting the embedded server when no URL is given) and applies pending migrations. */
export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  const logger = options.logger;
  let server: EmbeddedPostgres | undefined;
  let url = options.databaseUrl;
  if (!url) {
    server = await startEmbeddedPostgres({ dataDir: options.dataDir, port: options.embeddedPort, logger });
    url = server.url;
    logger?.info(`embedded PostgreSQL ready on 127.0.0.1:${server.port} (data in ${options.dataDir}/pg)`);
  }
  let orm: MikroORM | undefined;
  try {
    orm = await MikroORM.init(ormConfig(url, logger));
    await migrateOnce(url, orm);
  } catch (error) {
    await orm?.close().catch(() => undefined);
    await server?.stop();
    throw error;
  }
  let closing: Promise<void> | undefined;
  const pool = createSqlPool(url, {
    max: options.poolSize,
    // pg's pool.end() resolves before its connections are gone; their goodbyes are no news
    onError: (error) => { if (!closing) logger?.warn(`database connection lost: ${error.message}`); },
  });
  return {
    orm,
    pool,
    url,
    embedded: server !== undefined,
    close: () => {
      closing ??= (async () => {
        await pool.end().catch((error: Error) => logger?.warn(`closing the SQL pool: ${error.message}`));
        await orm.close().catch((error: Error) => logger?.warn(`closing MikroORM: ${error.message}`));
        await server?.stop();
      })();
      return closing;
    },
  };
}
