import { createHash } from 'node:crypto';
import { describe, expect, it, jest } from '@jest/globals';
import { authenticateApiKey, generateApiKey, hashApiKey, isUsable, parseApiKey, verifyApiKey, type ApiKeyRecord } from './api-key.js';
import { catchSecurityError, rejectsWithSecurityError } from '../spec-support/errors.js';

const now = new Date('2025-06-01T12:00:00Z');
const inOneHour = new Date(now.getTime() + 3_600_000);
const oneHourAgo = new Date(now.getTime() - 3_600_000);

function record(overrides: Partial<ApiKeyRecord> = {}): { secret: string; rec: ApiKeyRecord } {
  const { id, secret, hash } = generateApiKey();
  return { secret, rec: { id, name: 'ci', role: 'operator', hash, createdAt: oneHourAgo, ...overrides } };
}

describe('generateApiKey', () => {
  it('makes afk_<16 hex id>_<base64url of 32 random bytes> and returns the hash of the whole key', () => {
    const key = generateApiKey();
    expect(key.secret).toMatch(/^afk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(key.secret.startsWith(`afk_${key.id}_`)).toBe(true);
    expect(Buffer.from(key.secret.slice(21), 'base64url')).toHaveLength(32);
    expect(key.hash).toBe(createHash('sha256').update(key.secret).digest('hex'));
    expect(key.hash).not.toContain(key.secret.slice(21, 30));
  });

  it('never repeats an id or a secret', () => {
    const keys = Array.from({ length: 2000 }, generateApiKey);
    expect(new Set(keys.map((k) => k.id)).size).toBe(2000);
    expect(new Set(keys.map((k) => k.secret)).size).toBe(2000);
  });
});

describe('parseApiKey', () => {
  it('extracts the id and a loggable form without the secret part', () => {
    const { id, secret } = generateApiKey();
    const parsed = parseApiKey(secret);
    expect(parsed).toEqual({ id, redacted: `afk_${id}_…` });
    expect(JSON.stringify(parsed)).not.toContain(secret.slice(21));
  });

  it('keeps underscores that base64url puts in the secret part', () => {
    const secret = `afk_0123456789abcdef_${'_'.repeat(10)}${'A'.repeat(33)}`;
    expect(parseApiKey(secret)?.id).toBe('0123456789abcdef');
  });

  it.each([
    ['wrong prefix', `sk_0123456789abcdef_${'A'.repeat(43)}`],
    ['uppercase id', `afk_0123456789ABCDEF_${'A'.repeat(43)}`],
    ['short id', `afk_0123456789abcde_${'A'.repeat(43)}`],
    ['short secret (< 32 bytes)', `afk_0123456789abcdef_${'A'.repeat(42)}`],
    ['padding / non-base64url', `afk_0123456789abcdef_${'A'.repeat(42)}=`],
    ['surrounding whitespace', ` afk_0123456789abcdef_${'A'.repeat(43)}`],
    ['empty', ''],
    ['not a string', 42],
    ['a JWT', 'eyJhbGciOiJIUzI1NiJ9.e30.x'],
  ])('rejects %s', (_label, value) => {
    expect(parseApiKey(value)).toBeUndefined();
  });
});

describe('verifyApiKey', () => {
  it('accepts the key that produced the hash and rejects any other', () => {
    const a = generateApiKey();
    const b = generateApiKey();
    expect(verifyApiKey(a.secret, a.hash)).toBe(true);
    expect(verifyApiKey(b.secret, a.hash)).toBe(false);
    const lastChar = a.secret.at(-1) === 'A' ? 'B' : 'A';
    expect(verifyApiKey(a.secret.slice(0, -1) + lastChar, a.hash)).toBe(false);
    expect(verifyApiKey(a.secret + 'x', a.hash)).toBe(false);
  });

  it('is false, not an exception, for malformed stored hashes or keys', () => {
    const a = generateApiKey();
    expect(verifyApiKey(a.secret, '')).toBe(false);
    expect(verifyApiKey(a.secret, a.hash.slice(2))).toBe(false);
    expect(verifyApiKey(a.secret, 'z'.repeat(64))).toBe(false);
    expect(verifyApiKey(a.secret, a.hash.toUpperCase())).toBe(true);
    // A stored hash of some non-key string must not turn that string into a valid key.
    expect(verifyApiKey('hunter2', createHash('sha256').update('hunter2').digest('hex'))).toBe(false);
  });
});

describe('hashApiKey (provisioned ANCHORFLOW_ADMIN_KEY)', () => {
  it('hashes a well-formed key and refuses a hand-typed weak one', () => {
    const { secret, hash } = generateApiKey();
    expect(hashApiKey(secret)).toBe(hash);
    const err = catchSecurityError(() => hashApiKey('admin123'), 'API_KEY_INVALID');
    expect(err.message).not.toContain('admin123');
  });
});

describe('isUsable', () => {
  it('is true without expiry or revocation, and before expiry', () => {
    expect(isUsable(record().rec, now)).toBe(true);
    expect(isUsable(record({ expiresAt: inOneHour }).rec, now)).toBe(true);
    expect(isUsable(record({ expiresAt: null, revokedAt: null }).rec, now)).toBe(true);
  });

  it('is false from the expiry instant on', () => {
    expect(isUsable(record({ expiresAt: oneHourAgo }).rec, now)).toBe(false);
    expect(isUsable(record({ expiresAt: now }).rec, now)).toBe(false);
    expect(isUsable(record({ expiresAt: new Date(now.getTime() + 1) }).rec, now)).toBe(true);
  });

  it('is false once revoked, even if the revocation timestamp is ahead of this clock', () => {
    expect(isUsable(record({ revokedAt: oneHourAgo }).rec, now)).toBe(false);
    expect(isUsable(record({ revokedAt: inOneHour, expiresAt: inOneHour }).rec, now)).toBe(false);
  });
});

describe('authenticateApiKey', () => {
  const store = (...recs: ApiKeyRecord[]) => jest.fn(async (id: string) => recs.find((r) => r.id === id));

  it('returns the record (with its role) for a valid, usable key', async () => {
    const { secret, rec } = record({ role: 'auditor' });
    await expect(authenticateApiKey(secret, store(rec), now)).resolves.toBe(rec);
  });

  it('rejects malformed keys without touching the store', async () => {
    const find = store();
    await rejectsWithSecurityError(authenticateApiKey('Bearer nonsense', find, now), 'API_KEY_INVALID');
    expect(find).not.toHaveBeenCalled();
  });

  it('answers unknown id and wrong secret with the same code', async () => {
    const { rec } = record();
    const other = generateApiKey();
    await rejectsWithSecurityError(authenticateApiKey(other.secret, store(rec), now), 'API_KEY_INVALID');
    const forged = `afk_${rec.id}_${other.secret.slice(21)}`;
    await rejectsWithSecurityError(authenticateApiKey(forged, store(rec), now), 'API_KEY_INVALID');
  });

  it('reports expired and revoked keys only to the holder of the right secret', async () => {
    const expired = record({ expiresAt: oneHourAgo });
    const revoked = record({ revokedAt: oneHourAgo });
    await rejectsWithSecurityError(authenticateApiKey(expired.secret, store(expired.rec), now), 'API_KEY_EXPIRED');
    await rejectsWithSecurityError(authenticateApiKey(revoked.secret, store(revoked.rec), now), 'API_KEY_REVOKED');
    const guess = `afk_${revoked.rec.id}_${generateApiKey().secret.slice(21)}`;
    await rejectsWithSecurityError(authenticateApiKey(guess, store(revoked.rec), now), 'API_KEY_INVALID');
  });

  it('never puts the secret into the error', async () => {
    const revoked = record({ revokedAt: oneHourAgo });
    const err = await rejectsWithSecurityError(authenticateApiKey(revoked.secret, store(revoked.rec), now), 'API_KEY_REVOKED');
    expect(`${err.message} ${JSON.stringify(err.details)}`).not.toContain(revoked.secret.slice(21));
  });
});
