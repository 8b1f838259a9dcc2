import { createHash } from 'node:crypto';
import { authenticateApiKey, generateApiKey, hashApiKey, isRole, parseApiKey, SecurityError, type Role } from '@anchorflow/security';
import { ApiError } from '../common/api-error.js';
import type { ApiKeyStore, StoredApiKey } from './api-key.store.js';

/** What the API and the CLI show of a key: never its secret, never its hash. */
export interface ApiKeyInfo {
  id: string;
  name: string;
  role: Role;
  createdAt: Date;
  expiresAt: Date | null;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
}

export interface CreateApiKeyInput {
  name: string;
  role: Role | string;
  expiresAt?: Date | null;
}

export interface ApiKeysOptions {
  /**
   * How long a verified key is trusted without looking at the database again. A key revoked through
   * this process stops working at once; revoked through another daemon (or the CLI), within this time.
   */
  cacheTtlMs?: number;
  /** last_used_at is written at most this often per key (default one minute) */
  touchIntervalMs?: number;
  now?: () => Date;
  /** failures to record a use are logged here, never thrown at the request */
  onTouchError?: (err: unknown, keyId: string) => void;
}

export const MAX_KEY_NAME_LENGTH = 200;
const MAX_CACHE_ENTRIES = 10_000;

export function toApiKeyInfo(key: StoredApiKey): ApiKeyInfo {
  return {
    id: key.id,
    name: key.name,
    role: key.role,
    createdAt: key.createdAt,
    expiresAt: key.expiresAt ?? null,
    revokedAt: key.revokedAt ?? null,
    lastUsedAt: key.lastUsedAt ?? null,
  };
}

function unusable(key: StoredApiKey, now: Date): SecurityError | undefined {
  if (key.revokedAt != null) return new SecurityError('API_KEY_REVOKED', `API key ${key.id} is revoked`, { keyId: key.id });
  if (key.expiresAt != null && !(now.getTime() < key.expiresAt.getTime())) return new SecurityError('API_KEY_EXPIRED', `API key ${key.id} has expired`, { keyId: key.id });
  return undefined;
}

/**
 * API keys: create (the secret is returned once and never stored), list, revoke, and authenticate with a
 * short in-memory cache. Framework-free so the CLI (`anchorflow keys create|list|revoke`) can use it on a
 * `PgApiKeyStore` without the Nest app. Errors: ApiError / SecurityError (see the daemon's filter).
 */
export class ApiKeys {
  private readonly cacheTtlMs: number;
  private readonly touchIntervalMs: number;
  private readonly now: () => Date;
  /** sha256(presented key) → the row it proved, until when */
  private readonly bySecret = new Map<string, { key: StoredApiKey; until: number }>();
  /** key id → row (editor tokens re-check their key), until when */
  private readonly byId = new Map<string, { key: StoredApiKey | undefined; until: number }>();
  private readonly lastTouch = new Map<string, number>();

  constructor(
    private readonly store: ApiKeyStore,
    private readonly options: ApiKeysOptions = {},
  ) {
    this.cacheTtlMs = Math.max(0, options.cacheTtlMs ?? 1000);
    this.touchIntervalMs = options.touchIntervalMs ?? 60_000;
    this.now = options.now ?? (() => new Date());
  }

  async create(input: CreateApiKeyInput): Promise<{ key: ApiKeyInfo; secret: string }> {
    const name = typeof input.name === 'string' ? input.name.trim() : '';
    const problems: Array<{ path: string; message: string }> = [];
    if (name === '' || name.length > MAX_KEY_NAME_LENGTH) problems.push({ path: 'name', message: `name must be 1-${MAX_KEY_NAME_LENGTH} characters` });
    if (!isRole(input.role)) problems.push({ path: 'role', message: 'role must be one of admin, editor, operator, auditor, viewer' });
    const now = this.now();
    if (input.expiresAt != null && !(input.expiresAt instanceof Date && input.expiresAt.getTime() > now.getTime())) {
      problems.push({ path: 'expiresAt', message: 'expiresAt must be a date in the future' });
    }
    if (problems.length) throw new ApiError(400, 'INVALID_REQUEST', `request is invalid: ${problems.map((p) => p.message).join('; ')}`, problems);
    for (;;) {
      const generated = generateApiKey();
      const key: StoredApiKey = { id: generated.id, name, role: input.role as Role, hash: generated.hash, createdAt: now, expiresAt: input.expiresAt ?? null };
      // 64 random bits of id: a collision is a curiosity, but never overwrite another key's row
      if (await this.store.insertIfAbsent(key)) return { key: toApiKeyInfo(key), secret: generated.secret };
    }
  }

  async list(): Promise<ApiKeyInfo[]> {
    return (await this.store.list()).map(toApiKeyInfo);
  }

  async get(id: string): Promise<ApiKeyInfo> {
    const key = await this.store.findById(id);
    if (!key) throw notFound(id);
    return toApiKeyInfo(key);
  }

  /** Idempotent; 404 for an unknown id; 409 LAST_ADMIN_KEY for the last usable admin key. */
  async revoke(id: string): Promise<ApiKeyInfo> {
    const result = await this.store.revoke(id, this.now());
    this.invalidate(id);
    switch (result.outcome) {
      case 'not-found':
        throw notFound(id);
      case 'last-admin':
        throw new ApiError(409, 'LAST_ADMIN_KEY', `API key ${id} is the last usable admin key; create another admin key before revoking it`, { keyId: id });
      default:
        return toApiKeyInfo(result.key);
    }
  }

  /** Forgets what this process cached about a key (after a revocation). */
  invalidate(id: string): void {
    this.byId.delete(id);
    for (const [hash, entry] of this.bySecret) if (entry.key.id === id) this.bySecret.delete(hash);
  }

  /**
   * The key a request presented, if it is valid, unrevoked and unexpired; else SecurityError
   * API_KEY_INVALID | API_KEY_REVOKED | API_KEY_EXPIRED (all mean 401).
   */
  async authenticate(secret: unknown): Promise<StoredApiKey> {
    const parsed = parseApiKey(secret);
    if (!parsed) throw new SecurityError('API_KEY_INVALID', 'invalid API key');
    const now = this.now();
    const cacheKey = createHash('sha256').update(secret as string).digest('hex');
    const hit = this.bySecret.get(cacheKey);
    let key: StoredApiKey;
    if (hit && hit.until > now.getTime()) {
      const problem = unusable(hit.key, now);
      if (problem) throw problem;
      key = hit.key;
    } else {
      key = await authenticateApiKey(secret, (id) => this.store.findById(id), now);
      this.remember(this.bySecret, cacheKey, { key, until: now.getTime() + this.cacheTtlMs });
    }
    this.recordUse(key.id, now);
    return key;
  }

  /**
   * The key an editor token was issued for, if still usable: tokens stop working when their key is
   * revoked or expires (within the cache time), not only when they expire themselves.
   */
  async usableById(id: string): Promise<StoredApiKey> {
    const now = this.now();
    let entry = this.byId.get(id);
    if (!entry || entry.until <= now.getTime()) {
      entry = { key: await this.store.findById(id), until: now.getTime() + this.cacheTtlMs };
      this.remember(this.byId, id, entry);
    }
    if (!entry.key) throw new SecurityError('API_KEY_INVALID', 'the key of this token does not exist');
    const problem = unusable(entry.key, now);
    if (problem) throw problem;
    this.recordUse(id, now);
    return entry.key;
  }

  /**
   * First start. With `provisioned` (ANCHORFLOW_ADMIN_KEY): that key is stored (its hash) as an admin key
   * unless its id exists already, on every start, so provisioning is idempotent and a revoked one stays
   * revoked. Without: when no key exists at all, one admin key is generated and its secret returned, to
   * be shown once; later starts return nothing.
   */
  async bootstrap(provisioned?: string): Promise<{ generated?: { key: ApiKeyInfo; secret: string }; provisioned?: { key: ApiKeyInfo; inserted: boolean; warning?: string } }> {
    const now = this.now();
    if (provisioned !== undefined && provisioned.trim() !== '') {
      const value = provisioned.trim();
      const parsed = parseApiKey(value);
      // hashApiKey throws API_KEY_INVALID (without echoing the value) for anything malformed
      const hash = hashApiKey(value);
      const key: StoredApiKey = { id: parsed!.id, name: 'admin (ANCHORFLOW_ADMIN_KEY)', role: 'admin', hash, createdAt: now, expiresAt: null };
      const inserted = await this.store.insertIfAbsent(key);
      const stored = inserted ? key : await this.store.findById(key.id);
      let warning: string | undefined;
      if (!inserted && stored && stored.hash !== hash) warning = `ANCHORFLOW_ADMIN_KEY has the id of another stored key (${key.id}); that key is kept and the variable's key is NOT usable`;
      else if (!inserted && stored && stored.revokedAt != null) warning = `the key in ANCHORFLOW_ADMIN_KEY (${key.id}) was revoked; it stays revoked`;
      return { provisioned: { key: toApiKeyInfo(stored ?? key), inserted, ...(warning ? { warning } : {}) } };
    }
    let secret: string | undefined;
    const created = await this.store.insertIfEmpty(() => {
      const generated = generateApiKey();
      secret = generated.secret;
      return { id: generated.id, name: 'admin (first start)', role: 'admin', hash: generated.hash, createdAt: now, expiresAt: null };
    });
    return created && secret ? { generated: { key: toApiKeyInfo(created), secret } } : {};
  }

  private recordUse(id: string, now: Date): void {
    const last = this.lastTouch.get(id);
    if (last !== undefined && now.getTime() - last < this.touchIntervalMs) return;
    this.remember(this.lastTouch, id, now.getTime());
    this.store.touch(id, now, this.touchIntervalMs).catch((err: unknown) => this.options.onTouchError?.(err, id));
  }

  private remember<V>(map: Map<string, V>, key: string, value: V): void {
    if (map.size >= MAX_CACHE_ENTRIES && !map.has(key)) map.clear();
    map.set(key, value);
  }
}

function notFound(id: string): ApiError {
  return new ApiError(404, 'NOT_FOUND', `API key ${JSON.stringify(String(id).slice(0, 100))} not found`);
}
