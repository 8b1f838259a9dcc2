import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { openDatabase, type Database } from '@anchorflow/persistence';
import { createTestDatabase } from '@anchorflow/persistence/testing';
import { generateApiKey, generateMasterKey, masterKeyId, SecurityError, Vault } from '@anchorflow/security';
import { PgApiKeyStore, type StoredApiKey } from '../auth/api-key.store.js';
import { ApiKeys } from '../auth/api-keys.js';
import { SecretRegistry } from '../core/secret-registry.js';
import { PgCredentialStore } from './credential.store.js';
import { Credentials } from './credentials.js';
import { rotateMasterKey } from '@anchorflow/persistence';

/** API keys, credentials and master-key rotation on PostgreSQL (skipped without a server). */
const testDb = await createTestDatabase();

function keyRow(role: StoredApiKey['role'], name: string = role): StoredApiKey {
  const g = generateApiKey();
  return { id: g.id, name, role, hash: g.hash, createdAt: new Date(), expiresAt: null };
}

(testDb ? describe : describe.skip)('security stores on PostgreSQL', () => {
  let db: Database;
  beforeAll(async () => {
    db = await openDatabase({ databaseUrl: testDb!.url, dataDir: '/nonexistent' });
  });
  // each test starts without keys (the bootstrap test needs an empty table; tests run in any order)
  beforeEach(async () => {
    await db.pool.query('DELETE FROM api_key');
  });
  afterAll(async () => {
    await db?.close();
    await testDb?.drop();
  });

  it('api_key: bootstrap once across concurrent starts, last-admin guard, touch, listing', async () => {
    const store = new PgApiKeyStore(db);
    const made = await Promise.all(Array.from({ length: 5 }, () => store.insertIfEmpty(() => keyRow('admin', 'first start'))));
    expect(made.filter(Boolean)).toHaveLength(1);
    const first = made.find(Boolean)!;
    expect(await store.revoke(first.id, new Date())).toMatchObject({ outcome: 'last-admin' });
    const second = keyRow('admin');
    expect(await store.insertIfAbsent(second)).toBe(true);
    expect(await store.insertIfAbsent(second)).toBe(false);
    // two concurrent revocations of the last two admin keys: one wins, the other is refused
    const outcomes = (await Promise.all([store.revoke(first.id, new Date()), store.revoke(second.id, new Date())])).map((r) => r.outcome).sort();
    expect(outcomes).toEqual(['last-admin', 'revoked']);
    expect(await store.revoke('0123456789abcdef', new Date())).toEqual({ outcome: 'not-found' });
    const t = new Date('2030-01-01T00:00:00Z');
    await store.touch(second.id, t, 60_000);
    await store.touch(second.id, new Date(t.getTime() + 1000), 60_000);
    expect((await store.findById(second.id))!.lastUsedAt).toEqual(t);
    const listed = await store.list();
    expect(listed.map((k) => k.id).sort()).toEqual([first.id, second.id].sort());
  });

  it('authenticates through the store; the row holds only the hash', async () => {
    const keys = new ApiKeys(new PgApiKeyStore(db), { cacheTtlMs: 0 });
    const { key, secret } = await keys.create({ name: 'pg', role: 'viewer' });
    await expect(keys.authenticate(secret)).resolves.toMatchObject({ id: key.id, role: 'viewer' });
    const { rows } = await db.pool.query('SELECT * FROM api_key WHERE id = $1', [key.id]);
    expect(JSON.stringify(rows)).not.toContain(secret.slice(21));
  });

  it('credential: ciphertext only, unique names; rotation re-encrypts every row in one go', async () => {
    const oldKey = generateMasterKey();
    const credentials = new Credentials(new PgCredentialStore(db), new Vault(oldKey), new SecretRegistry());
    const a = await credentials.create({ type: 'smtp', name: 'mail', data: { password: 'pg-secret-1' } });
    await credentials.create({ type: 'api', name: 'svc', data: { token: 'pg-secret-2' } });
    await expect(credentials.create({ type: 'api', name: 'svc', data: {} })).rejects.toMatchObject({ status: 409 });
    const { rows } = await db.pool.query('SELECT * FROM credential');
    expect(JSON.stringify(rows)).not.toMatch(/pg-secret/);

    const newKey = generateMasterKey();
    // a wrong "old" key changes nothing
    const wrong = await rotateMasterKey(db, generateMasterKey(), newKey).catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(SecurityError);
    expect((await db.pool.query<{ kid: string }>('SELECT DISTINCT kid FROM credential')).rows).toEqual([{ kid: masterKeyId(oldKey) }]);

    expect(await rotateMasterKey(db, oldKey, newKey)).toEqual({ rotated: 2, alreadyCurrent: 0, kid: masterKeyId(newKey) });
    expect(await rotateMasterKey(db, oldKey, newKey)).toEqual({ rotated: 0, alreadyCurrent: 2, kid: masterKeyId(newKey) });
    const after = new Credentials(new PgCredentialStore(db), new Vault(newKey), new SecretRegistry());
    expect(await after.resolve('mail')).toEqual({ password: 'pg-secret-1' });
    expect(await after.resolve(a.id)).toEqual({ password: 'pg-secret-1' });
    await expect(credentials.resolve('svc')).rejects.toMatchObject({ code: 'CREDENTIAL_UNREADABLE' });
  });

  it('credential scopes survive the round trip: stored at create, kept by an update without them, replaced by one with them', async () => {
    const credentials = new Credentials(new PgCredentialStore(db), new Vault(generateMasterKey()), new SecretRegistry());
    const scopes = { workflows: ['0b9e9d3c-1111-4aaa-8bbb-123456789abc'], nodeTypes: ['notify.webhook'], allowHosts: ['hooks.example.com'] };
    const c = await credentials.create({ type: 'api', name: `scoped-${Date.now()}`, data: { k: 'value-1' }, scopes });
    expect(await credentials.describe(c.id)).toMatchObject({ scopes });
    expect((await credentials.update(c.id, { data: { k: 'value-2' } })).scopes).toEqual(scopes);
    expect((await credentials.update(c.id, { data: { k: 'value-3' }, scopes: { nodeTypes: [] } })).scopes).toEqual({ nodeTypes: [] });
    expect((await credentials.list()).find((m) => m.id === c.id)?.scopes).toEqual({ nodeTypes: [] });
    // leave the table as found: the rotation test (any order) counts the rows and their key ids
    await credentials.delete(c.id);
  });
});
