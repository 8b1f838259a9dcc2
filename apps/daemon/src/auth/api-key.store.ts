import { type ApiKeyStore, type RevokeResult, type StoredApiKey, usableAdmin } from '@anchorflow/persistence';

/** the port and its PostgreSQL repository live in libs/persistence (all SQL does) */
export { PgApiKeyStore, type ApiKeyStore, type RevokeResult, type StoredApiKey } from '@anchorflow/persistence';

/** API keys in memory: the in-memory daemon of the specs (no database). */
export class MemoryApiKeyStore implements ApiKeyStore {
  private readonly keys = new Map<string, StoredApiKey>();

  async findById(id: string): Promise<StoredApiKey | undefined> {
    const key = this.keys.get(id);
    return key && { ...key };
  }

  async list(): Promise<StoredApiKey[]> {
    return [...this.keys.values()].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || a.id.localeCompare(b.id)).map((k) => ({ ...k }));
  }

  async insertIfAbsent(key: StoredApiKey): Promise<boolean> {
    if (this.keys.has(key.id)) return false;
    this.keys.set(key.id, { ...key, revokedAt: null, lastUsedAt: null });
    return true;
  }

  async revoke(id: string, at: Date): Promise<RevokeResult> {
    const key = this.keys.get(id);
    if (!key) return { outcome: 'not-found' };
    if (key.revokedAt != null) return { outcome: 'already-revoked', key: { ...key } };
    if (usableAdmin(key, at) && ![...this.keys.values()].some((k) => k.id !== id && usableAdmin(k, at))) return { outcome: 'last-admin', key: { ...key } };
    key.revokedAt = at;
    return { outcome: 'revoked', key: { ...key } };
  }

  async touch(id: string, at: Date, minIntervalMs: number): Promise<void> {
    const key = this.keys.get(id);
    if (key && (key.lastUsedAt == null || key.lastUsedAt.getTime() <= at.getTime() - minIntervalMs)) key.lastUsedAt = at;
  }

  async insertIfEmpty(create: () => StoredApiKey): Promise<StoredApiKey | undefined> {
    if (this.keys.size > 0) return undefined;
    const key = create();
    this.keys.set(key.id, { ...key });
    return key;
  }
}
