import { type SqlQueryable, createSqlPool } from './sql-pool.js';

/** Throws when the database does not answer (health checks, the CLI before it uses a pool). */
export async function pingDatabase(pool: SqlQueryable): Promise<void> {
  await pool.query('SELECT 1');
}

/** Names of the migrations applied to the database at `url`, in order ([] before the first). */
export async function executedMigrations(url: string): Promise<string[]> {
  const pool = createSqlPool(url, { max: 1, applicationName: 'anchorflow-cli' });
  try {
    const { rows } = await pool.query<{ name: string }>('SELECT name FROM mikro_orm_migrations ORDER BY id');
    return rows.map((r) => r.name);
  } catch (err) {
    if ((err as { code?: string }).code === '42P01') return []; // no migrations table yet
    throw err;
  } finally {
    await pool.end().catch(() => undefined);
  }
}
