import type { NamedLeases } from '@anchorflow/engine';
import type { SqlPool } from '../database/sql-pool.js';

/** NamedLeases on PostgreSQL (table named_lease); every comparison uses the database's now(). */
export class PgNamedLeases implements NamedLeases {
  private readonly pool: SqlPool;

  constructor(db: { pool: SqlPool }) {
    this.pool = db.pool;
  }

  async acquire(name: string, holder: string, ttlMs: number): Promise<boolean> {
    const { rows } = await this.pool.query<{ holder: string }>(
      `INSERT INTO named_lease (name, holder, expires_at) VALUES ($1, $2, now() + $3 * interval '1 millisecond')
       ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at,
         acquired_at = CASE WHEN named_lease.holder = excluded.holder THEN named_lease.acquired_at ELSE now() END
       WHERE named_lease.holder = excluded.holder OR named_lease.expires_at <= now()
       RETURNING holder`,
      [name, holder, Math.max(1, Math.trunc(ttlMs))]);
    return rows.length === 1;
  }

  async release(name: string, holder: string): Promise<void> {
    await this.pool.query('DELETE FROM named_lease WHERE name = $1 AND holder = $2', [name, holder]);
  }

  async holder(name: string): Promise<string | undefined> {
    const { rows } = await this.pool.query<{ holder: string }>('SELECT holder FROM named_lease WHERE name = $1 AND expires_at > now()', [name]);
    return rows[0]?.holder;
  }
}
