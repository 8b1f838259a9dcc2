import type { SqlPool } from '../database/sql-pool.js';
import { toJsonText } from '../internal/json-text.js';
import { isUuid } from '../adapters/execution-rows.js';

const TERMINAL = `('succeeded', 'failed', 'cancelled')`;

/** a pending anchor item for the chain-anchor batcher (its plugin state), written only if `unlessKey` is absent */
export interface QueuedItem {
  key: string;
  value: unknown;
  /** e.g. the key the proof is delivered to: once it exists, the item is not queued again */
  unlessKey: string;
}

/**
 * The SQL of execution receipts (apps/daemon/src/receipts): the ends of finished histories (first and last
 * stored event, enough for a receipt statement), bulk hand-off of anchor items into a plugin's state (one
 * statement for any number), and the finished executions whose hand-off is missing (after a crash).
 */
export class PgReceiptQueue {
  constructor(private readonly db: { pool: SqlPool }) {}

  /** first and last event (with hashes) of each execution's stored history; absent ids are left out */
  async historyEnds(ids: readonly string[]): Promise<Map<string, { first: Record<string, unknown>; last: Record<string, unknown> }>> {
    const valid = ids.filter(isUuid);
    const out = new Map<string, { first: Record<string, unknown>; last: Record<string, unknown> }>();
    if (!valid.length) return out;
    const { rows } = await this.db.pool.query<{ execution_id: string; first: string; last: string }>(`
      SELECT f.execution_id, f.events AS first, l.events AS last
      FROM execution_event f
      JOIN LATERAL (SELECT events FROM execution_event l WHERE l.execution_id = f.execution_id ORDER BY seq DESC LIMIT 1) l ON true
      WHERE f.execution_id = ANY($1::uuid[]) AND f.seq = 1`, [valid]);
    for (const row of rows) {
      const first = (JSON.parse(row.first) as Array<Record<string, unknown>>)[0];
      const last = (JSON.parse(row.last) as Array<Record<string, unknown>>).at(-1);
      if (first && last) out.set(row.execution_id, { first, last });
    }
    return out;
  }

  /** inserts the items that are neither queued nor delivered yet; returns how many were new */
  async enqueue(plugin: string, items: readonly QueuedItem[]): Promise<number> {
    if (!items.length) return 0;
    const { rowCount } = await this.db.pool.query(`
      INSERT INTO plugin_state (plugin, key, value)
      SELECT $1, i.key, i.value::jsonb FROM unnest($2::text[], $3::text[], $4::text[]) AS i(key, value, unless_key)
      WHERE NOT EXISTS (SELECT 1 FROM plugin_state s WHERE s.plugin = $1 AND s.key = i.unless_key)
      ON CONFLICT (plugin, key) DO NOTHING`,
      [plugin, items.map((i) => i.key), items.map((i) => toJsonText(i.value)), items.map((i) => i.unlessKey)]);
    return rowCount ?? 0;
  }

  /**
   * Finished executions (since `since`, epoch ms of finished_at) with neither `<pendingPrefix><id>` nor
   * `<deliveredPrefix><id>` in the plugin's state: the ones a crash kept from being handed over.
   */
  async missing(plugin: string, pendingPrefix: string, deliveredPrefix: string, since: number, limit: number): Promise<Array<{ id: string; finishedAt: number }>> {
    const { rows } = await this.db.pool.query<{ id: string; finished_at: number }>(`
      SELECT e.id, (extract(epoch from e.finished_at) * 1000)::float8 AS finished_at FROM execution e
      WHERE e.status IN ${TERMINAL} AND e.finished_at >= to_timestamp($4::float8 / 1000)
        AND NOT EXISTS (SELECT 1 FROM plugin_state s WHERE s.plugin = $1 AND s.key IN ($2 || e.id::text, $3 || e.id::text))
      ORDER BY e.finished_at LIMIT $5`, [plugin, pendingPrefix, deliveredPrefix, since, limit]);
    return rows.map((r) => ({ id: r.id, finishedAt: Math.round(r.finished_at) }));
  }
}
