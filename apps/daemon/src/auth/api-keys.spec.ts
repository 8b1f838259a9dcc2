import { describe, expect, it, jest } from '@jest/globals';
import { generateApiKey, hashApiKey, SecurityError, type SecurityErrorCode } from '@anchorflow/security';
import { ApiError } from '../common/api-error.js';
import { MemoryApiKeyStore } from './api-key.store.js';
import { ApiKeys } from './api-keys.js';

function clock(start = Date.parse('2026-01-01T00:00:00Z')) {
  let t = start;
  return { now: () => new Date(t), advance: (ms: number) => void (t += ms) };
}

async function rejects(promise: Promise<unknown>, code: SecurityErrorCode | number): Promise<void> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  if (typeof code === 'number') {
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(code);
  } else {
    expect(err).toBeInstanceOf(SecurityError);
    expect((err as SecurityError).code).toBe(code);
  }
}

function setup(options: { cacheTtlMs?: number } = {}) {
  const c = clock();
  const store = new MemoryApiKeyStore();
  const keys = new ApiKeys(store, { cacheTtlMs: options.cacheTtlMs ?? 1000, now: c.now });
  return { c, store, keys };
}

describe('ApiKeys', () => {
  it('creates a key whose secret is returned once and never listed', async () => {
    const { keys, store } = setup();
    const { key, secret } = await keys.create({ name: ' ci ', role: 'operator' });
    expect(secret).toMatch(new RegExp(`^afk_${key.id}_[A-Za-z0-9_-]{43}$`));
    expect(key).toEqual({ id: key.id, name: 'ci', role: 'operator', createdAt: expect.any(Date), expiresAt: null, revokedAt: null, lastUsedAt: null });
    const listed = await keys.list();
    expect(JSON.stringify(listed)).not.toContain(secret.slice(21));
    expect(Object.keys(listed[0]!)).not.toContain('hash');
    expect((await store.findById(key.id))!.hash).toBe(hashApiKey(secret));
  });

  it('refuses a bad name, an unknown role and an expiry in the past, listing every problem', async () => {
    const { keys, c } = setup();
    const err = await keys.create({ name: '', role: 'root', expiresAt: new Date(c.now().getTime() - 1) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).details).toEqual([
      { path: 'name', message: expect.any(String) },
      { path: 'role', message: expect.any(String) },
      { path: 'expiresAt', message: expect.any(String) },
    ]);
  });

  it('authenticates a valid key and rejects wrong, revoked and expired ones with their codes', async () => {
    const { keys, c } = setup();
    const { key, secret } = await keys.create({ name: 'a', role: 'viewer', expiresAt: new Date(c.now().getTime() + 60_000) });
    await expect(keys.authenticate(secret)).resolves.toMatchObject({ id: key.id, role: 'viewer' });
    await rejects(keys.authenticate(`${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`), 'API_KEY_INVALID');
    await rejects(keys.authenticate('nope'), 'API_KEY_INVALID');
    await rejects(keys.authenticate(generateApiKey().secret), 'API_KEY_INVALID');
    c.advance(60_000);
    // expiry is checked on the cached row too
    await rejects(keys.authenticate(secret), 'API_KEY_EXPIRED');
  });

  it('a revocation through this process applies at once; one made elsewhere within the cache time', async () => {
    const { keys, store, c } = setup({ cacheTtlMs: 1000 });
    await keys.create({ name: 'keep', role: 'admin' });
    const here = await keys.create({ name: 'here', role: 'editor' });
    const there = await keys.create({ name: 'there', role: 'editor' });
    await keys.authenticate(here.secret);
    await keys.authenticate(there.secret);
    await keys.revoke(here.key.id);
    await rejects(keys.authenticate(here.secret), 'API_KEY_REVOKED');
    // another daemon (or the CLI) revokes: this process trusts its cache until it expires
    await store.revoke(there.key.id, c.now());
    await expect(keys.authenticate(there.secret)).resolves.toBeDefined();
    c.advance(1001);
    await rejects(keys.authenticate(there.secret), 'API_KEY_REVOKED');
  });

  it('revocation is idempotent, 404 for unknown ids, and never removes the last usable admin key', async () => {
    const { keys } = setup();
    const a = await keys.create({ name: 'a', role: 'admin' });
    const b = await keys.create({ name: 'b', role: 'admin' });
    const revoked = await keys.revoke(a.key.id);
    expect(revoked.revokedAt).toBeInstanceOf(Date);
    expect((await keys.revoke(a.key.id)).revokedAt).toEqual(revoked.revokedAt);
    await rejects(keys.revoke('0123456789abcdef'), 404);
    const last = await keys.revoke(b.key.id).catch((e: unknown) => e);
    expect(last).toMatchObject({ status: 409, code: 'LAST_ADMIN_KEY' });
    await expect(keys.authenticate(b.secret)).resolves.toBeDefined();
  });

  it('records a use at most once a minute per key', async () => {
    const { keys, store, c } = setup({ cacheTtlMs: 0 });
    const touch = jest.spyOn(store, 'touch');
    const { key, secret } = await keys.create({ name: 'a', role: 'viewer' });
    for (let i = 0; i < 5; i++) await keys.authenticate(secret);
    expect(touch).toHaveBeenCalledTimes(1);
    c.advance(60_000);
    await keys.authenticate(secret);
    expect(touch).toHaveBeenCalledTimes(2);
    expect((await keys.get(key.id)).lastUsedAt).toEqual(c.now());
  });

  it('checks the key behind an editor token (revoked or expired → rejected)', async () => {
    const { keys } = setup();
    await keys.create({ name: 'keep', role: 'admin' });
    const { key } = await keys.create({ name: 'a', role: 'editor' });
    await expect(keys.usableById(key.id)).resolves.toMatchObject({ id: key.id });
    await keys.revoke(key.id);
    await rejects(keys.usableById(key.id), 'API_KEY_REVOKED');
    await rejects(keys.usableById('0123456789abcdef'), 'API_KEY_INVALID');
  });

  describe('bootstrap', () => {
    it('creates one admin key on an empty store, once', async () => {
      const { keys } = setup();
      const first = await keys.bootstrap();
      expect(first.generated?.key.role).toBe('admin');
      await expect(keys.authenticate(first.generated!.secret)).resolves.toMatchObject({ role: 'admin' });
      expect(await keys.bootstrap()).toEqual({});
      expect(await keys.list()).toHaveLength(1);
    });

    it('stores a provisioned key (ANCHORFLOW_ADMIN_KEY) idempotently; a revoked one stays revoked', async () => {
      const { keys } = setup();
      const provisioned = generateApiKey().secret;
      expect((await keys.bootstrap(provisioned)).provisioned).toMatchObject({ inserted: true, key: { role: 'admin' } });
      expect((await keys.bootstrap(`${provisioned}\n`)).provisioned).toMatchObject({ inserted: false });
      await keys.create({ name: 'other admin', role: 'admin' });
      await keys.revoke(provisioned.split('_')[1]!);
      expect((await keys.bootstrap(provisioned)).provisioned?.warning).toMatch(/revoked/);
      await rejects(keys.authenticate(provisioned), 'API_KEY_REVOKED');
      // no key is generated while a provisioned one exists
      expect((await keys.list()).filter((k) => k.name.includes('first start'))).toEqual([]);
    });

    it('refuses a malformed ANCHORFLOW_ADMIN_KEY without echoing it', async () => {
      const { keys } = setup();
      const err = await keys.bootstrap('hunter2-hunter2').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SecurityError);
      expect((err as SecurityError).code).toBe('API_KEY_INVALID');
      expect((err as Error).message).not.toContain('hunter2');
    });
  });
});
