import { chainEntry, type AuditEntry, type AuditFields, type AuditHead, type ChainedEntry, type JsonValue } from '@anchorflow/security';
import { inTransaction, type SqlPool } from '../database/sql-pool.js';
import type { AuditLogStore } from './audit-log.port.js';

/**
 * Key of the transaction-level advisory lock that serialises appends across processes (daemons sharing
 * one database, the CLI): "anchorau" in ASCII. Held from reading the head to COMMIT.
 */
export const AUDIT_LOCK_KEY = '7020658169314697589';

const INSERT_SQL = `
INSERT INTO audit_entry (seq, at, actor, action, target, details, prev_hash, hash)
SELECT (e->>'seq')::bigint, (e->>'at')::timestamptz, e->>'actor', e->>'action', e->>'target', e->'details', e->>'prevHash', e->>'hash'
FROM jsonb_array_elements($1::jsonb) AS e`;

/** `at` exactly as Date#toISOString rendered it (a timestamptz keeps milliseconds). */
const AT_ISO = `to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

interface AuditRow {
  seq: string;
  at: string;
  actor: string;
  action: string;
  target: string;
  details: JsonValue;
  prev_hash: string;
  hash: string;
}

export function toAuditEntry(row: AuditRow): AuditEntry {
  return { seq: Number(row.seq), at: row.at, actor: row.actor, action: row.action, target: row.target, details: row.details, prevHash: row.prev_hash, hash: row.hash };
}

/** one entry as the INSERT reads it, the details spliced in as the canonical text that was hashed (not serialized again) */
function entryJson(e: ChainedEntry): string {
  const q = JSON.stringify;
  return `{"seq":${e.seq},"at":${q(e.at)},"actor":${q(e.actor)},"action":${q(e.action)},"target":${q(e.target)},"details":${e.detailsText},"prevHash":${q(e.prevHash)},"hash":${q(e.hash)}}`;
}

/** The audit log in the `audit_entry` table, one INSERT per batch. */
export class PgAuditLog implements AuditLogStore {
  constructor(private readonly db: { pool: SqlPool }) {}

  async append(fields: readonly AuditFields[]): Promise<AuditHead> {
    if (fields.length === 0) return (await this.head()) ?? { seq: 0, hash: '' };
    return inTransaction(this.db.pool, async (client) => {
      await client.query({ name: 'audit-lock', text: 'SELECT pg_advisory_xact_lock($1::bigint)', values: [AUDIT_LOCK_KEY] });
      const { rows } = await client.query<{ seq: string; hash: string }>({ name: 'audit-head', text: 'SELECT seq::text AS seq, hash FROM audit_entry ORDER BY audit_entry.seq DESC LIMIT 1' });
      let prev: AuditHead | undefined = rows[0] ? { seq: Number(rows[0].seq), hash: rows[0].hash } : undefined;
      const entries: string[] = [];
      for (const f of fields) {
        const entry = chainEntry(prev, f);
        entries.push(entryJson(entry));
        prev = entry;
      }
      // prepared once per connection: parsed and planned once, not per batch
      await client.query({ name: 'audit-insert', text: INSERT_SQL, values: [`[${entries.join(',')}]`] });
      return { seq: prev!.seq, hash: prev!.hash };
    });
  }

  async head(): Promise<AuditHead | null> {
    const { rows } = await this.db.pool.query<{ seq: string; hash: string }>('SELECT seq::text AS seq, hash FROM audit_entry ORDER BY audit_entry.seq DESC LIMIT 1');
    return rows[0] ? { seq: Number(rows[0].seq), hash: rows[0].hash } : null;
  }

  async page(afterSeq: number, limit: number): Promise<AuditEntry[]> {
    const { rows } = await this.db.pool.query<AuditRow>({
      name: 'audit-page',
      text: `SELECT seq::text AS seq, ${AT_ISO} AS at, actor, action, target, details, prev_hash, hash
             FROM audit_entry WHERE seq > $1::bigint ORDER BY audit_entry.seq LIMIT $2`,
      values: [afterSeq, limit],
    });
    return rows.map(toAuditEntry);
  }
}
