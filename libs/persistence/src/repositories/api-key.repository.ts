import { inTransaction, type SqlPool } from '../database/sql-pool.js';
import type { ApiKeyRecord } from '@anchorflow/security';

/** An API key row: what @anchorflow/security authenticates, plus when it was last used. */
export interface StoredApiKey extends ApiKeyRecord {
  lastUsedAt?: Date | null;
}

export type RevokeResult = { outcome: 'revoked' | 'already-revoked'; key: StoredApiKey } | { outcome: 'not-found' } | { outcome: 'last-admin'; key: StoredApiKey };

/** Where API keys live: PostgreSQL (`api_key`), or memory for specs without a database. */
export interface ApiKeyStore {
  findById(id: string): Promise<StoredApiKey | undefined>;
  /** newest first */
  list(): Promise<StoredApiKey[]>;
  /** false when a key with this id exists already (nothing written) */
  insertIfAbsent(key: StoredApiKey): Promise<boolean>;
  /**
   * Sets revoked_at unless set already. Refuses (`last-admin`) to revoke the last usable admin key, which
   * would lock everyone out of key management; serialized against concurrent revocations.
   */
  revoke(id: string, at: Date): Promise<RevokeResult>;
  /** records a use; a no-op when the recorded one is less than `minIntervalMs` old */
  touch(id: string, at: Date, minIntervalMs: number): Promise<void>;
  /**
   * First start: runs `create` only while the table is empty, serialized across daemons starting at the
   * same time, and stores what it returns. Returns whether it ran.
   */
  insertIfEmpty(create: () => StoredApiKey): Promise<StoredApiKey | undefined>;
}

export function usableAdmin(key: StoredApiKey, now: Date): boolean {
  return key.role === 'admin' && key.revokedAt == null && (key.expiresAt == null || key.expiresAt.getTime() > now.getTime());
}

interface Queryable {
  query<R = Record<string, unknown>>(text: string, values?: unknown[]): Promise<{ rows: R[]; rowCount: number | null }>;
}

interface Pool extends Queryable {
  connect(): Promise<Queryable & { release(destroy?: boolean | Error): void }>;
}

interface ApiKeyRow {
  id: string;
  name: string;
  role: string;
  hash: string;
  created_at: Date;
  expires_at: Date | null;
  revoked_at: Date | null;
  last_used_at: Date | null;
}

const COLUMNS = 'id, name, role, hash, created_at, expires_at, revoked_at, last_used_at';
// one lock id for every change that must see all keys at once (first-start bootstrap, last-admin check)
const LOCK = `SELECT pg_advisory_xact_lock(hashtext('anchorflow.api_key'))`;

function fromRow(row: ApiKeyRow): StoredApiKey {
  return {
    id: row.id,
    name: row.name,
    role: row.role as StoredApiKey['role'],
    hash: row.hash,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    lastUsedAt: row.last_used_at,
  };
}

/** API keys in PostgreSQL (`api_key`, see libs/persistence ApiKeyEntity), on the adapters' raw pool. */
export class PgApiKeyStore implements ApiKeyStore {
  private readonly pool: Pool;

  constructor(db: { pool: unknown }) {
    this.pool = db.pool as Pool;
  }

  async findById(id: string): Promise<StoredApiKey | undefined> {
    const { rows } = await this.pool.query<ApiKeyRow>(`SELECT ${COLUMNS} FROM api_key WHERE id = $1`, [id]);
    return rows[0] ? fromRow(rows[0]) : undefined;
  }

  async list(): Promise<StoredApiKey[]> {
    const { rows } = await this.pool.query<ApiKeyRow>(`SELECT ${COLUMNS} FROM api_key ORDER BY created_at DESC, id`);
    return rows.map(fromRow);
  }

  async insertIfAbsent(key: StoredApiKey): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `INSERT INTO api_key (id, name, role, hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING`,
      [key.id, key.name, key.role, key.hash, key.createdAt, key.expiresAt ?? null]);
    return rowCount === 1;
  }

  revoke(id: string, at: Date): Promise<RevokeResult> {
    return this.transaction(async (tx) => {
      await tx.query(LOCK);
      const { rows } = await tx.query<ApiKeyRow>(`SELECT ${COLUMNS} FROM api_key WHERE id = $1 FOR UPDATE`, [id]);
      if (!rows[0]) return { outcome: 'not-found' };
      const key = fromRow(rows[0]);
      if (key.revokedAt != null) return { outcome: 'already-revoked', key };
      if (usableAdmin(key, at)) {
        const { rows: others } = await tx.query<{ n: string }>(
          `SELECT count(*) AS n FROM api_key WHERE role = 'admin' AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $1) AND id <> $2`, [at, id]);
        if (Number(others[0]?.n ?? 0) === 0) return { outcome: 'last-admin', key };
      }
      const { rows: updated } = await tx.query<ApiKeyRow>(`UPDATE api_key SET revoked_at = $2 WHERE id = $1 RETURNING ${COLUMNS}`, [id, at]);
      return { outcome: 'revoked', key: fromRow(updated[0]!) };
    });
  }

  async touch(id: string, at: Date, minIntervalMs: number): Promise<void> {
    await this.pool.query(
      `UPDATE api_key SET last_used_at = $2 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at <= $3)`,
      [id, at, new Date(at.getTime() - minIntervalMs)]);
  }

  insertIfEmpty(create: () => StoredApiKey): Promise<StoredApiKey | undefined> {
    return this.transaction(async (tx) => {
      await tx.query(LOCK);
      const { rows } = await tx.query(`SELECT 1 FROM api_key LIMIT 1`);
      if (rows.length > 0) return undefined;
      const key = create();
      await tx.query(`INSERT INTO api_key (id, name, role, hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)`,
        [key.id, key.name, key.role, key.hash, key.createdAt, key.expiresAt ?? null]);
      return key;
    });
  }

  private transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return inTransaction(this.pool as unknown as SqlPool, (client) => fn(client as unknown as Queryable));
  }

}
