import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { encodeMasterKey, loadOrCreateMasterKey, parseMasterKey } from './master-key.js';
import { masterKeyId } from './vault.js';
import { catchSecurityError, rejectsWithSecurityError } from '../spec-support/errors.js';

const key = randomBytes(32);

describe('parseMasterKey', () => {
  it.each([
    ['hex', key.toString('hex')],
    ['HEX', key.toString('hex').toUpperCase()],
    ['base64', key.toString('base64')],
    ['base64 without padding', key.toString('base64').replace(/=$/, '')],
    ['base64url', key.toString('base64url')],
    ['base64 with a trailing newline', `${key.toString('base64')}\n`],
  ])('accepts %s', (_label, text) => {
    expect(parseMasterKey(text).equals(key)).toBe(true);
  });

  it.each([
    ['16 bytes of hex', randomBytes(16).toString('hex')],
    ['48 bytes of base64', randomBytes(48).toString('base64')],
    ['a passphrase', 'my very secret master passphrase!'],
    ['empty', ''],
    ['63 hex chars', key.toString('hex').slice(1)],
  ])('rejects %s without echoing it', (_label, text) => {
    const err = catchSecurityError(() => parseMasterKey(text), 'MASTER_KEY_INVALID');
    if (text) expect(err.message).not.toContain(text);
  });
});

describe('loadOrCreateMasterKey', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'af-master-key-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('takes the env value over an existing key file and creates nothing', async () => {
    const keyFile = join(dir, 'master.key');
    await writeFile(keyFile, encodeMasterKey(randomBytes(32)), { mode: 0o600 });
    const loaded = await loadOrCreateMasterKey({ envValue: key.toString('hex'), keyFile });
    expect(loaded).toMatchObject({ source: 'env', generated: false, kid: masterKeyId(key) });
    expect(loaded.key.equals(key)).toBe(true);
    const untouched = join(dir, 'none', 'master.key');
    await loadOrCreateMasterKey({ envValue: key.toString('base64'), keyFile: untouched });
    await expect(stat(join(dir, 'none'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('fails on a malformed env value instead of falling back to the file', async () => {
    await rejectsWithSecurityError(loadOrCreateMasterKey({ envValue: 'not-a-key', keyFile: join(dir, 'k') }), 'MASTER_KEY_INVALID');
  });

  it('treats a blank env value as unset', async () => {
    const loaded = await loadOrCreateMasterKey({ envValue: '  ', keyFile: join(dir, 'k') });
    expect(loaded.source).toBe('generated');
  });

  it.each([
    ['base64 text', (k: Buffer) => `${k.toString('base64')}\n`],
    ['hex text', (k: Buffer) => k.toString('hex')],
    ['raw 32 bytes', (k: Buffer) => k],
  ])('reads a key file holding %s', async (_label, encode) => {
    const keyFile = join(dir, 'master.key');
    await writeFile(keyFile, encode(key), { mode: 0o600 });
    const loaded = await loadOrCreateMasterKey({ keyFile });
    expect(loaded).toMatchObject({ source: 'file', generated: false, keyFile, warnings: [] });
    expect(loaded.key.equals(key)).toBe(true);
  });

  it('generates a key on first start: parent dirs created, file mode 0600, flagged so the caller warns', async () => {
    const keyFile = join(dir, 'data', 'secrets', 'master.key');
    const first = await loadOrCreateMasterKey({ keyFile });
    expect(first).toMatchObject({ source: 'generated', generated: true, keyFile });
    expect(first.key).toHaveLength(32);
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'data', 'secrets'))).mode & 0o077).toBe(0);
    expect(parseMasterKey(await readFile(keyFile, 'utf8')).equals(first.key)).toBe(true);

    const second = await loadOrCreateMasterKey({ keyFile });
    expect(second).toMatchObject({ source: 'file', generated: false, kid: first.kid });
    expect(second.key.equals(first.key)).toBe(true);
    expect(await readdir(join(dir, 'data', 'secrets'))).toEqual(['master.key']); // no temp files left
  });

  it('lets concurrent first starts agree on one key, generated exactly once', async () => {
    const keyFile = join(dir, 'master.key');
    const results = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateMasterKey({ keyFile })));
    expect(new Set(results.map((r) => r.kid)).size).toBe(1);
    expect(results.filter((r) => r.generated)).toHaveLength(1);
    expect(await readdir(dir)).toEqual(['master.key']);
  });

  it('warns about a key file readable by others, without key material in the warning', async () => {
    const keyFile = join(dir, 'master.key');
    await writeFile(keyFile, key.toString('hex'));
    await chmod(keyFile, 0o644);
    const loaded = await loadOrCreateMasterKey({ keyFile });
    expect(loaded.warnings).toHaveLength(1);
    expect(loaded.warnings[0]).toContain('0644');
    expect(loaded.warnings[0]).not.toContain(key.toString('hex').slice(0, 8));
  });

  it('refuses a corrupt key file rather than replacing it (that would orphan every credential)', async () => {
    const keyFile = join(dir, 'master.key');
    await writeFile(keyFile, 'half-a-key', { mode: 0o600 });
    await rejectsWithSecurityError(loadOrCreateMasterKey({ keyFile }), 'MASTER_KEY_INVALID');
    expect(await readFile(keyFile, 'utf8')).toBe('half-a-key');
  });
});
