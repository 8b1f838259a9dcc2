import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import type { AuditFields, AuditHead } from '@anchorflow/security';
import { AUDIT_HEAD_FILE, readSealedHead, SealingAuditLogStore } from './sealed-head.js';
import type { AuditLogStore } from './audit-log.port.js';

/** an inner store that commits each append as the next seq */
function countingStore(): AuditLogStore {
  let seq = 0;
  return {
    async append(fields: readonly AuditFields[]): Promise<AuditHead> {
      seq += fields.length;
      return { seq, hash: `h${seq}` };
    },
    async head() {
      return seq ? { seq, hash: `h${seq}` } : null;
    },
    async page() {
      return [];
    },
  } as unknown as AuditLogStore;
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('SealingAuditLogStore', () => {
  it('after a burst of appends, the head on disk is the newest one, sealed with the key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'af-seal-'));
    dirs.push(dir);
    const key = Buffer.alloc(32, 7);
    const errors: unknown[] = [];
    const store = new SealingAuditLogStore(countingStore(), key, dir, (err) => errors.push(err));
    const field = {} as AuditFields;
    await Promise.all(Array.from({ length: 50 }, () => store.append([field])));
    await store.sealed();
    expect(readSealedHead(dir, key)).toMatchObject({ seq: 50, hash: 'h50' });
    expect(errors).toEqual([]);
    // a later append seals again
    await store.append([field, field]);
    await store.sealed();
    expect(JSON.parse(readFileSync(join(dir, AUDIT_HEAD_FILE), 'utf8'))).toMatchObject({ seq: 52, hash: 'h52' });
  });

  it('a failed write is reported and the append stands', async () => {
    const dir = join(tmpdir(), 'af-seal-missing-dir', String(process.pid), 'nope');
    const errors: unknown[] = [];
    const store = new SealingAuditLogStore(countingStore(), Buffer.alloc(32, 7), dir, (err) => errors.push(err));
    await expect(store.append([{} as AuditFields])).resolves.toMatchObject({ seq: 1 });
    await store.sealed();
    expect(errors).toHaveLength(1);
  });
});

describe('SealingAuditLogStore: at most one write per interval', () => {
  it('appends within the interval are sealed together by one later write; sealed() writes at once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'af-seal-'));
    dirs.push(dir);
    const key = Buffer.alloc(32, 9);
    const store = new SealingAuditLogStore(countingStore(), key, dir, () => undefined, 60_000);
    const field = {} as AuditFields;
    await store.append([field]);
    // the first append is written at once (nothing was written before)
    await store.sealed();
    expect(readSealedHead(dir, key)).toMatchObject({ seq: 1 });
    await store.append([field]);
    await store.append([field]);
    // within the interval nothing more is written…
    await new Promise((r) => setTimeout(r, 50));
    expect(readSealedHead(dir, key)).toMatchObject({ seq: 1 });
    // …until sealed() (shutdown) asks for it: the newest head, not waiting out the minute
    const t0 = Date.now();
    await store.sealed();
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(readSealedHead(dir, key)).toMatchObject({ seq: 3, hash: 'h3' });
  });
});
