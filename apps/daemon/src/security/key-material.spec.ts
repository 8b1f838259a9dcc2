import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { encodeMasterKey, generateMasterKey, TokenService } from '@anchorflow/security';
import { keyMaterialSecrets, loadKeyMaterial } from './key-material.js';

const dirs: string[] = [];
function dir(): string {
  const d = mkdtempSync(join(tmpdir(), 'af-keys-'));
  dirs.push(d);
  return join(d, 'data');
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('loadKeyMaterial', () => {
  it('generates jwt.secret and master.key (0600) on first start and reads them afterwards', async () => {
    const dataDir = dir();
    const first = await loadKeyMaterial({}, dataDir);
    expect(first.jwt.source).toBe('generated');
    expect(first.master.source).toBe('generated');
    for (const f of ['jwt.secret', 'master.key']) expect(statSync(join(dataDir, f)).mode & 0o777).toBe(0o600);
    expect(() => new TokenService({ secret: first.jwtSecret })).not.toThrow();
    const again = await loadKeyMaterial({}, dataDir);
    expect(again.jwt.source).toBe('file');
    expect(again.jwtSecret).toBe(first.jwtSecret);
    expect(again.masterKey.equals(first.masterKey)).toBe(true);
    expect(keyMaterialSecrets(again)).toEqual(expect.arrayContaining([first.jwtSecret, readFileSync(join(dataDir, 'master.key'), 'utf8').trim()]));
  });

  it('takes the environment first and writes no files then', async () => {
    const dataDir = dir();
    const key = generateMasterKey();
    const material = await loadKeyMaterial({ ANCHORFLOW_JWT_SECRET: 'j'.repeat(40), ANCHORFLOW_MASTER_KEY: encodeMasterKey(key) }, dataDir);
    expect(material.jwt).toEqual({ source: 'env', file: undefined });
    expect(material.master.source).toBe('env');
    expect(material.masterKey.equals(key)).toBe(true);
    expect(() => statSync(join(dataDir, 'jwt.secret'))).toThrow();
  });

  it('warns about key files readable by others, and refuses a malformed master key without echoing it', async () => {
    const dataDir = dir();
    await loadKeyMaterial({}, dataDir);
    chmodSync(join(dataDir, 'jwt.secret'), 0o644);
    const material = await loadKeyMaterial({}, dataDir);
    expect(material.warnings.join('\n')).toMatch(/jwt\.secret is accessible by group or others/);
    const err = await loadKeyMaterial({ ANCHORFLOW_MASTER_KEY: 'not-a-key-at-all' }, dir()).catch((e: unknown) => e);
    expect((err as Error).message).not.toContain('not-a-key-at-all');
  });
});
