import { createHash, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, expect, it } from '@jest/globals';
import { masterKeyId, Vault, type VaultRecord } from './vault.js';
import { catchSecurityError } from '../spec-support/errors.js';

const keyA = randomBytes(32);
const keyB = randomBytes(32);
const smtp = { host: 'smtp.example.test', user: 'mailer', password: 'correct horse battery staple' };
const aad1 = { id: 'cred-1', type: 'notify.smtp' };
const aad2 = { id: 'cred-2', type: 'notify.smtp' };

const flip = (b64: string, byte = 0): string => {
  const buf = Buffer.from(b64, 'base64');
  buf[byte] ^= 0x01;
  return buf.toString('base64');
};

describe('Vault', () => {
  it('round-trips credential data', () => {
    const vault = new Vault(keyA);
    expect(vault.decrypt(vault.encrypt(smtp, aad1), aad1)).toEqual(smtp);
  });

  it('stores kid, a 12-byte IV, a 16-byte tag and ciphertext, all base64, with no plaintext in sight', () => {
    const vault = new Vault(keyA);
    const rec = vault.encrypt(smtp, aad1);
    expect(Object.keys(rec).sort()).toEqual(['ciphertext', 'iv', 'kid', 'tag']);
    expect(rec.kid).toBe(createHash('sha256').update(keyA).digest('hex').slice(0, 8));
    expect(rec.kid).toBe(masterKeyId(keyA));
    expect(vault.kid).toBe(rec.kid);
    expect(Buffer.from(rec.iv, 'base64')).toHaveLength(12);
    expect(Buffer.from(rec.tag, 'base64')).toHaveLength(16);
    const stored = JSON.stringify(rec);
    expect(stored).not.toContain('horse');
    expect(Buffer.from(rec.ciphertext, 'base64').toString('latin1')).not.toContain('horse');
  });

  it('uses a fresh IV per record, so equal data never gives equal ciphertext', () => {
    const vault = new Vault(keyA);
    const records = Array.from({ length: 200 }, () => vault.encrypt(smtp, aad1));
    expect(new Set(records.map((r) => r.iv)).size).toBe(200);
    expect(new Set(records.map((r) => r.ciphertext)).size).toBe(200);
  });

  it('binds each ciphertext to its credential id and type: swapped records fail', () => {
    const vault = new Vault(keyA);
    const one = vault.encrypt({ password: 'one' }, aad1);
    const two = vault.encrypt({ password: 'two' }, aad2);
    catchSecurityError(() => vault.decrypt(two, aad1), 'VAULT_DECRYPT_FAILED');
    catchSecurityError(() => vault.decrypt(one, aad2), 'VAULT_DECRYPT_FAILED');
    // Swapping only the ciphertext (and tag) columns between rows fails the same way.
    catchSecurityError(() => vault.decrypt({ ...one, ciphertext: two.ciphertext, tag: two.tag, iv: two.iv }, aad1), 'VAULT_DECRYPT_FAILED');
    catchSecurityError(() => vault.decrypt(one, { id: 'cred-1', type: 'notify.slack' }), 'VAULT_DECRYPT_FAILED');
    expect(vault.decrypt(one, aad1)).toEqual({ password: 'one' });
  });

  it.each<[string, (r: VaultRecord) => VaultRecord]>([
    ['ciphertext bit', (r) => ({ ...r, ciphertext: flip(r.ciphertext, 3) })],
    ['tag bit', (r) => ({ ...r, tag: flip(r.tag) })],
    ['iv bit', (r) => ({ ...r, iv: flip(r.iv) })],
    ['truncated tag', (r) => ({ ...r, tag: Buffer.from(r.tag, 'base64').subarray(0, 12).toString('base64') })],
    ['truncated ciphertext', (r) => ({ ...r, ciphertext: Buffer.from(r.ciphertext, 'base64').subarray(1).toString('base64') })],
    ['non-base64 iv', (r) => ({ ...r, iv: '!!!!' })],
    ['missing tag', (r) => ({ ...r, tag: undefined as never })],
  ])('detects a tampered record (%s)', (_label, tamper) => {
    const vault = new Vault(keyA);
    const err = catchSecurityError(() => vault.decrypt(tamper(vault.encrypt(smtp, aad1)), aad1), 'VAULT_DECRYPT_FAILED');
    expect(err.cause).toBeUndefined();
  });

  it('refuses the wrong key, whether or not the record names it', () => {
    const rec = new Vault(keyA).encrypt(smtp, aad1);
    const other = new Vault(keyB);
    const unknown = catchSecurityError(() => other.decrypt(rec, aad1), 'VAULT_DECRYPT_FAILED');
    expect(unknown.details).toMatchObject({ reason: 'unknown-key', kid: rec.kid, credentialId: 'cred-1' });
    // A record relabelled with the other vault's kid reaches AES-GCM and fails authentication.
    const relabelled = catchSecurityError(() => other.decrypt({ ...rec, kid: other.kid }, aad1), 'VAULT_DECRYPT_FAILED');
    expect(relabelled.details).toMatchObject({ reason: 'authentication-failed' });
  });

  it('leaks neither plaintext nor key material through errors or the vault object', () => {
    const vault = new Vault(keyA);
    const rec = vault.encrypt(smtp, aad1);
    const err = catchSecurityError(() => vault.decrypt({ ...rec, tag: flip(rec.tag) }, aad1), 'VAULT_DECRYPT_FAILED');
    const everything = [err.message, err.stack, JSON.stringify(err.details), inspect(err, { depth: 5 }), JSON.stringify(vault), inspect(vault, { depth: 5, showHidden: true })].join('\n');
    for (const forbidden of ['horse', keyA.toString('hex'), keyA.toString('base64'), keyA.toString('hex').slice(0, 16)]) {
      expect(everything).not.toContain(forbidden);
    }
  });

  it('rejects keys that are not 32 bytes and data that is not an object', () => {
    catchSecurityError(() => new Vault(randomBytes(16)), 'MASTER_KEY_INVALID');
    catchSecurityError(() => new Vault(randomBytes(33)), 'MASTER_KEY_INVALID');
    catchSecurityError(() => new Vault(keyA, { previousKeys: [randomBytes(31)] }), 'MASTER_KEY_INVALID');
    const vault = new Vault(keyA);
    catchSecurityError(() => vault.encrypt('secret' as never, aad1), 'INVALID_ARGUMENT');
    catchSecurityError(() => vault.encrypt(['a'], aad1), 'INVALID_ARGUMENT');
    catchSecurityError(() => vault.encrypt(smtp, { id: '', type: 'x' }), 'INVALID_ARGUMENT');
  });

  it('does not depend on the caller keeping the key buffer intact', () => {
    const key = Buffer.from(keyA);
    const vault = new Vault(key);
    const rec = vault.encrypt(smtp, aad1);
    key.fill(0);
    expect(vault.decrypt(rec, aad1)).toEqual(smtp);
  });
});

describe('Vault key rotation', () => {
  it('re-encrypts every record under the new key, carrying extra fields through', () => {
    const old = new Vault(keyA);
    const items = [
      { rowId: 1, aad: aad1, record: old.encrypt({ password: 'one' }, aad1) },
      { rowId: 2, aad: aad2, record: old.encrypt({ password: 'two' }, aad2) },
    ];
    const rotated = old.rotate(items, keyB);
    const next = new Vault(keyB);
    expect(rotated.map((r) => [r.rowId, r.record.kid])).toEqual([[1, next.kid], [2, next.kid]]);
    expect(next.decrypt(rotated[0].record, aad1)).toEqual({ password: 'one' });
    expect(next.decrypt(rotated[1].record, aad2)).toEqual({ password: 'two' });
    catchSecurityError(() => old.decrypt(rotated[0].record, aad1), 'VAULT_DECRYPT_FAILED');
    expect(rotated[0].record.iv).not.toBe(items[0].record.iv);
    expect(items[0].record.kid).toBe(old.kid); // inputs untouched
  });

  it('is all or nothing: one undecryptable record aborts the whole rotation', () => {
    const old = new Vault(keyA);
    const good = { aad: aad1, record: old.encrypt({ password: 'one' }, aad1) };
    const swapped = { aad: aad2, record: old.encrypt({ password: 'x' }, aad1) };
    const err = catchSecurityError(() => old.rotate([good, swapped], keyB), 'VAULT_DECRYPT_FAILED');
    expect(err.details).toMatchObject({ credentialId: 'cred-2' });
  });

  it('keeps older keys usable for decryption while records are migrated', () => {
    const oldRec = new Vault(keyA).encrypt(smtp, aad1);
    const vault = new Vault(keyB, { previousKeys: [keyA] });
    expect(vault.kid).toBe(masterKeyId(keyB));
    expect(vault.canDecrypt(oldRec)).toBe(true);
    expect(vault.decrypt(oldRec, aad1)).toEqual(smtp);
    expect(vault.encrypt(smtp, aad1).kid).toBe(masterKeyId(keyB));
    expect(new Vault(keyB).canDecrypt(oldRec)).toBe(false);
  });
});
