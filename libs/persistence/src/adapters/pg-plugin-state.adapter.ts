import { type AppendOnlyLog, type AppendOptions, LOG_READ_MAX, logStreamProblem, NodeError, type PluginState } from '@anchorflow/plugin-sdk';
import { inTransaction, type SqlPool } from '../database/sql-pool.js';
import { toJsonText } from '../internal/json-text.js';

/** The durable state of one plugin (keys are scoped to it). */
export function pluginStateFor(db: { pool: SqlPool }, plugin: string): PluginState {
  return new ScopedPluginState(db.pool, plugin);
}

/** LIKE pattern for keys starting with `prefix` (its own wildcards literal) */
const prefixPattern = (prefix: string): string => `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/**
 * The entry with the greatest key under `prefix` (keys compare as collate "C"), read from the end of the
 * primary key index: for readers that want the newest of an ever-growing series, such as the CLI's
 * newest anchored audit head, without reading the series (not part of the plugin contract, ARCHITECTURE §8).
 */
export async function lastPluginStateEntry<T = unknown>(db: { pool: SqlPool }, plugin: string, prefix: string): Promise<{ key: string; value: T } | undefined> {
  const { rows } = await db.pool.query<{ key: string; value: T }>(
    'SELECT key, value FROM plugin_state WHERE plugin = $1 AND key LIKE $2 ORDER BY key DESC LIMIT 1', [plugin, prefixPattern(prefix)]);
  return rows[0] ? { key: rows[0].key, value: rows[0].value } : undefined;
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
    const values: unknown[] = [this.plugin, prefixPattern(prefix)];
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

  log<T = unknown>(stream: string): AppendOnlyLog<T> {
    const problem = logStreamProblem(stream);
    if (problem) throw new NodeError(problem, 'INVALID_LOG_STREAM');
    return new PgAppendOnlyLog<T>(this.pool, this.plugin, stream);
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

/** The length of the stream: one index probe (the last position + 1). */
const LENGTH_SQL = 'SELECT pos FROM plugin_log WHERE plugin = $1 AND stream = $2 ORDER BY pos DESC LIMIT 1';

/**
 * One append-only log in `plugin_log`. An append is one transaction: the length is read under a
 * transaction-scoped advisory lock on the stream (appenders queue instead of colliding), the entries
 * are inserted in one statement from one JSON array, and the checkpoint keys are upserted with them.
 * The primary key still refuses a second write at a position, whatever the lock.
 */
class PgAppendOnlyLog<T> implements AppendOnlyLog<T> {
  constructor(private readonly pool: SqlPool, private readonly plugin: string, private readonly stream: string) {}

  async append(entries: readonly T[], options: AppendOptions = {}): Promise<number> {
    const checkpoint = options.checkpoint && Object.keys(options.checkpoint).length ? options.checkpoint : undefined;
    return inTransaction(this.pool, async (client) => {
      await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`plugin_log:${this.plugin}:${this.stream}`]);
      const { rows } = await client.query<{ pos: string }>(LENGTH_SQL, [this.plugin, this.stream]);
      const length = rows[0] ? Number(rows[0].pos) + 1 : 0;
      if (options.expectedLength !== undefined && options.expectedLength !== length) {
        throw new NodeError(`log "${this.stream}" holds ${length} entries, not the expected ${options.expectedLength}`, 'LOG_CONFLICT');
      }
      if (entries.length) {
        await client.query(
          `INSERT INTO plugin_log (plugin, stream, pos, value)
           SELECT $1, $2, $3::bigint + t.o - 1, t.v FROM json_array_elements($4::json) WITH ORDINALITY AS t(v, o)`,
          [this.plugin, this.stream, length, toJsonText(entries)]);
      }
      if (checkpoint) {
        await client.query(
          `INSERT INTO plugin_state (plugin, key, value) SELECT $1, c.key, c.value FROM jsonb_each($2::jsonb) AS c
           ON CONFLICT (plugin, key) DO UPDATE SET value = excluded.value, updated_at = now()`,
          [this.plugin, toJsonText(checkpoint)]);
      }
      return length + entries.length;
    });
  }

  async read(options: { from?: number; limit?: number } = {}): Promise<Array<{ pos: number; value: T }>> {
    const from = Math.max(0, Math.trunc(options.from ?? 0));
    const limit = Math.min(Math.max(0, Math.trunc(options.limit ?? 1000)), LOG_READ_MAX);
    const { rows } = await this.pool.query<{ pos: string; value: T }>(
      { name: 'plugin_log_read', text: 'SELECT pos, value FROM plugin_log WHERE plugin = $1 AND stream = $2 AND pos >= $3 ORDER BY pos LIMIT $4' },
      [this.plugin, this.stream, from, limit]);
    return rows.map((r) => ({ pos: Number(r.pos), value: r.value }));
  }

  async length(): Promise<number> {
    const { rows } = await this.pool.query<{ pos: string }>(LENGTH_SQL, [this.plugin, this.stream]);
    return rows[0] ? Number(rows[0].pos) + 1 : 0;
  }
}
