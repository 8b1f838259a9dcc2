import type { VaultRecord } from '@anchorflow/security';

/**
 * Who may use a credential (issue 17). A list that is absent does not restrict; a present list does
 * (an empty one allows nothing of that kind).
 */
export interface CredentialScopes {
  /** workflow ids whose executions may resolve it */
  workflows?: string[];
  /** node types that may resolve it */
  nodeTypes?: string[];
  /** outbound allow-list entries (host names, `*.suffix`, addresses, CIDR ranges) a node holding it may call */
  allowHosts?: string[];
}

/** What the API shows of a credential: never its data. */
export interface CredentialMeta {
  id: string;
  type: string;
  name: string;
  scopes: CredentialScopes;
  createdAt: Date;
  updatedAt: Date;
}

/** A stored credential: metadata in clear, data as vault ciphertext. */
export interface CredentialRecord extends CredentialMeta {
  record: VaultRecord;
}

export type CredentialUpdate = { record: VaultRecord; name?: string; scopes?: CredentialScopes; updatedAt: Date };

/** Where credentials live: PostgreSQL (`credential`), or memory for specs without a database. */
export interface CredentialStore {
  /** `name-taken` when another credential has the name (names are unique) */
  insert(credential: CredentialRecord): Promise<'ok' | 'name-taken'>;
  /** metadata only, by name */
  list(): Promise<CredentialMeta[]>;
  get(id: string): Promise<CredentialRecord | undefined>;
  findByName(name: string): Promise<CredentialRecord | undefined>;
  update(id: string, update: CredentialUpdate): Promise<CredentialRecord | 'not-found' | 'name-taken'>;
  delete(id: string): Promise<boolean>;
  /** every row with its ciphertext (start-up: registering secrets for redaction) */
  all(): Promise<CredentialRecord[]>;
}

interface Queryable {
  query<R = Record<string, unknown>>(text: string, values?: unknown[]): Promise<{ rows: R[]; rowCount: number | null }>;
}

interface CredentialRow {
  id: string;
  type: string;
  name: string;
  scopes: CredentialScopes | null;
  kid: string;
  iv: string;
  tag: string;
  ciphertext: string;
  created_at: Date;
  updated_at: Date;
}

const META = 'id, type, name, scopes, created_at, updated_at';
const ALL = `${META}, kid, iv, tag, ciphertext`;

function meta(row: Pick<CredentialRow, 'id' | 'type' | 'name' | 'scopes' | 'created_at' | 'updated_at'>): CredentialMeta {
  return { id: row.id, type: row.type, name: row.name, scopes: row.scopes ?? {}, createdAt: row.created_at, updatedAt: row.updated_at };
}

function fromRow(row: CredentialRow): CredentialRecord {
  return { ...meta(row), record: { kid: row.kid, iv: row.iv, tag: row.tag, ciphertext: row.ciphertext } };
}

const isUniqueViolation = (err: unknown): boolean => (err as { code?: unknown })?.code === '23505';

/** Credentials in PostgreSQL (`credential`, see libs/persistence CredentialEntity), on the raw pool. */
export class PgCredentialStore implements CredentialStore {
  private readonly pool: Queryable;

  constructor(db: { pool: unknown }) {
    this.pool = db.pool as Queryable;
  }

  async insert(c: CredentialRecord): Promise<'ok' | 'name-taken'> {
    try {
      await this.pool.query(
        `INSERT INTO credential (id, type, name, kid, iv, tag, ciphertext, created_at, updated_at, scopes) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb)`,
        [c.id, c.type, c.name, c.record.kid, c.record.iv, c.record.tag, c.record.ciphertext, c.createdAt, c.updatedAt, JSON.stringify(c.scopes ?? {})]);
      return 'ok';
    } catch (err) {
      if (isUniqueViolation(err)) return 'name-taken';
      throw err;
    }
  }

  async list(): Promise<CredentialMeta[]> {
    const { rows } = await this.pool.query<CredentialRow>(`SELECT ${META} FROM credential ORDER BY name, id`);
    return rows.map(meta);
  }

  async get(id: string): Promise<CredentialRecord | undefined> {
    const { rows } = await this.pool.query<CredentialRow>(`SELECT ${ALL} FROM credential WHERE id = $1`, [id]);
    return rows[0] ? fromRow(rows[0]) : undefined;
  }

  async findByName(name: string): Promise<CredentialRecord | undefined> {
    const { rows } = await this.pool.query<CredentialRow>(`SELECT ${ALL} FROM credential WHERE name = $1`, [name]);
    return rows[0] ? fromRow(rows[0]) : undefined;
  }

  async update(id: string, u: CredentialUpdate): Promise<CredentialRecord | 'not-found' | 'name-taken'> {
    try {
      const { rows } = await this.pool.query<CredentialRow>(
        `UPDATE credential SET kid = $2, iv = $3, tag = $4, ciphertext = $5, name = coalesce($6, name), updated_at = $7, scopes = coalesce($8::jsonb, scopes) WHERE id = $1 RETURNING ${ALL}`,
        [id, u.record.kid, u.record.iv, u.record.tag, u.record.ciphertext, u.name ?? null, u.updatedAt, u.scopes === undefined ? null : JSON.stringify(u.scopes)]);
      return rows[0] ? fromRow(rows[0]) : 'not-found';
    } catch (err) {
      if (isUniqueViolation(err)) return 'name-taken';
      throw err;
    }
  }

  async delete(id: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(`DELETE FROM credential WHERE id = $1`, [id]);
    return rowCount === 1;
  }

  async all(): Promise<CredentialRecord[]> {
    const { rows } = await this.pool.query<CredentialRow>(`SELECT ${ALL} FROM credential ORDER BY created_at, id`);
    return rows.map(fromRow);
  }
}
