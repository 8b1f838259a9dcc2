import type { PluginState } from '@anchorflow/plugin-sdk';
import { inTransaction, type SqlPool } from '../database/sql-pool.js';
import { toJsonText } from '../internal/json-text.js';

/** The durable state of one plugin (keys are scoped to it). */
export function pluginStateFor(db: { pool: SqlPool }, plugin: string): PluginState {
  return new ScopedPluginState(db.pool, plugin);
}

/** Plugin-owned durable state on PostgreSQL; its `pluginStateFor` fits EngineDeps.pluginState as is. */
export class PgPluginState {
  private readonly pool: SqlPool;

  constructor(db: { pool: SqlPool }) {
    this.pool = db.pool;
  }

  /** the state of one plugin (keys are scoped to it) */
  readonly pluginStateFor = (plugin: string): PluginState => new ScopedPluginState(this.pool, plugin);
}

class ScopedPluginState implements PluginState {
  constructor(private readonly pool: SqlPool, private readonly plugin: string) {}

  async get<T = unknown>(key: string): Promise<T | undefined> {
    const { rows } = await this.pool.query<{ value: T }>('SELECT value FROM plugin_state WHERE plugin = $1 AND key = $2', [this.plugin, key]);
    return rows[0]?.value;
  }

  async set(key: string, value: unknown): Promise<void> {
    if (value === undefined) return this.delete(key);
    await this.pool.query(
      `INSERT INTO plugin_state (plugin, key, value) VALUES ($1, $2, $3::jsonb)
       ON CONFLICT (plugin, key) DO UPDATE SET value = excluded.value, updated_at = now()`,
      [this.plugin, key, toJsonText(value)]);
  }

  async delete(key: string): Promise<void> {
    await this.pool.query('DELETE FROM plugin_state WHERE plugin = $1 AND key = $2', [this.plugin, key]);
  }

  async list<T = unknown>(prefix: string, options: { limit?: number; after?: string } = {}): Promise<Array<{ key: string; value: T }>> {
    // key is collate "C": a LIKE prefix scan walks the primary key index in key order
    const pattern = `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    const values: unknown[] = [this.plugin, pattern];
    let sql = `SELECT key, value FROM plugin_state WHERE plugin = $1 AND key LIKE $2`;
    if (options.after !== undefined) {
      values.push(options.after);
      sql += ` AND key > $${values.length}`;
    }
    sql += ' ORDER BY key';
    if (options.limit !== undefined) {
      values.push(Math.max(0, Math.trunc(options.limit)));
      sql += ` LIMIT $${values.length}`;
    }
    const { rows } = await this.pool.query<{ key: string; value: T }>(sql, values);
    return rows.map((r) => ({ key: r.key, value: r.value }));
  }

  /**
   * Read-modify-write under a row lock. A missing key is claimed by inserting a placeholder first:
   * a concurrent update of the same key then waits on that uncommitted row instead of also seeing
   * "absent" (which SELECT … FOR UPDATE alone would allow, as there is no row to lock). The
   * placeholder is replaced or deleted before commit, so it is never visible. `fn` runs exactly once.
   */
  async update<T = unknown>(key: string, fn: (current: T | undefined) => T | undefined): Promise<T | undefined> {
    return inTransaction(this.pool, async (client) => {
      let current: T | undefined;
      for (;;) {
        const claimed = await client.query(
          `INSERT INTO plugin_state (plugin, key, value) VALUES ($1, $2, 'null') ON CONFLICT (plugin, key) DO NOTHING`,
          [this.plugin, key]);
        if (claimed.rowCount === 1) break;
        const { rows } = await client.query<{ value: T }>(
          'SELECT value FROM plugin_state WHERE plugin = $1 AND key = $2 FOR UPDATE', [this.plugin, key]);
        // deleted between our insert attempt and the lock: claim it again
        if (rows.length === 0) continue;
        current = rows[0]!.value;
        break;
      }
      const next = fn(current);
      if (next === undefined) {
        await client.query('DELETE FROM plugin_state WHERE plugin = $1 AND key = $2', [this.plugin, key]);
      } else {
        await client.query('UPDATE plugin_state SET value = $3::jsonb, updated_at = now() WHERE plugin = $1 AND key = $2',
          [this.plugin, key, toJsonText(next)]);
      }
      return next;
    });
  }
}
