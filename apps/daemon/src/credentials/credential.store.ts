import type { CredentialMeta, CredentialRecord, CredentialStore, CredentialUpdate } from '@anchorflow/persistence';

/** the port and its PostgreSQL repository live in libs/persistence (all SQL does) */
export { PgCredentialStore, type CredentialMeta, type CredentialRecord, type CredentialScopes, type CredentialStore, type CredentialUpdate } from '@anchorflow/persistence';

/** Credentials in memory: the in-memory daemon of the specs (no database). */
export class MemoryCredentialStore implements CredentialStore {
  private readonly rows = new Map<string, CredentialRecord>();

  private nameTaken(name: string, except?: string): boolean {
    return [...this.rows.values()].some((r) => r.name === name && r.id !== except);
  }

  async insert(c: CredentialRecord): Promise<'ok' | 'name-taken'> {
    if (this.nameTaken(c.name)) return 'name-taken';
    this.rows.set(c.id, structuredClone(c));
    return 'ok';
  }

  async list(): Promise<CredentialMeta[]> {
    return [...this.rows.values()].sort((a, b) => a.name.localeCompare(b.name)).map(({ record: _record, ...m }) => m);
  }

  async get(id: string): Promise<CredentialRecord | undefined> {
    const row = this.rows.get(id);
    return row && structuredClone(row);
  }

  async findByName(name: string): Promise<CredentialRecord | undefined> {
    const row = [...this.rows.values()].find((r) => r.name === name);
    return row && structuredClone(row);
  }

  async update(id: string, u: CredentialUpdate): Promise<CredentialRecord | 'not-found' | 'name-taken'> {
    const row = this.rows.get(id);
    if (!row) return 'not-found';
    if (u.name !== undefined && this.nameTaken(u.name, id)) return 'name-taken';
    Object.assign(row, { record: u.record, updatedAt: u.updatedAt, ...(u.name !== undefined ? { name: u.name } : {}), ...(u.scopes !== undefined ? { scopes: structuredClone(u.scopes) } : {}) });
    return structuredClone(row);
  }

  async delete(id: string): Promise<boolean> {
    return this.rows.delete(id);
  }

  async all(): Promise<CredentialRecord[]> {
    return [...this.rows.values()].map((r) => structuredClone(r));
  }
}
