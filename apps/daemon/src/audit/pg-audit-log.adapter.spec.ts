import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { createTestDatabase, openDatabase, type Database } from '@anchorflow/persistence';
import { verifyChain } from '@anchorflow/security';
import { auditEntries } from './audit-log.port.js';
import { PgAuditLog } from './pg-audit-log.adapter.js';

const testDb = await createTestDatabase();

(testDb ? describe : describe.skip)('PgAuditLog on PostgreSQL', () => {
  let a: Database;
  let b: Database;

  beforeAll(async () => {
    a = await openDatabase({ databaseUrl: testDb!.url, dataDir: '/nonexistent' });
    b = await openDatabase({ databaseUrl: testDb!.url, dataDir: '/nonexistent' });
  });
  // every test starts from an empty log (they run in any order); only a superuser session gets past the append-only trigger
  beforeEach(async () => {
    const client = await a.pool.connect();
    try {
      await client.query('SET session_replication_role = replica');
      await client.query('TRUNCATE audit_entry RESTART IDENTITY');
      await client.query('RESET session_replication_role');
    } finally {
      client.release(true);
    }
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await testDb?.drop();
  });

  it('round-trips entries exactly: the chain read back verifies', async () => {
    const log = new PgAuditLog(a);
    expect(await log.head()).toBeNull();
    const head = await log.append([
      { actor: 'key:abc', action: 'workflows.create', target: 'workflow:1', details: { n: 1.5, s: 'ü 😀', nested: { z: 1, a: [true, null] } }, at: new Date('2026-01-02T03:04:05.678Z') },
      { actor: 'system', action: 'execution.started', target: 'execution:1', details: { big: 1e21, neg: -0 } },
    ]);
    expect(head.seq).toBe(2);
    const page = await log.page(0, 10);
    expect(page[0]).toMatchObject({ seq: 1, at: '2026-01-02T03:04:05.678Z', actor: 'key:abc', details: { n: 1.5, s: 'ü 😀' } });
    expect(await verifyChain(auditEntries(log))).toMatchObject({ ok: true, count: 2, head });
  });

  it('keeps one unbroken chain while two processes (two pools) append at once', async () => {
    const logs = [new PgAuditLog(a), new PgAuditLog(b)];
    await logs[0]!.append([{ actor: 'system', action: 'test.first', target: 'batch:first', details: {} }]);
    const before = (await logs[0]!.head())!.seq;
    await Promise.all(Array.from({ length: 40 }, (_, i) =>
      logs[i % 2]!.append(Array.from({ length: 25 }, (_, j) => ({ actor: `writer:${i % 2}`, action: 'test.concurrent', target: `batch:${i}`, details: { j } })))));
    const result = await verifyChain(auditEntries(logs[1]!, 0, 97));
    expect(result).toMatchObject({ ok: true, count: before + 1000 });
  });

  it('refuses UPDATE and DELETE (append-only), yet verify catches a superuser who bypasses that', async () => {
    const log = new PgAuditLog(a);
    await log.append([
      { actor: 'key:abc', action: 'workflows.create', target: 'workflow:1', details: { n: 1.5 } },
      { actor: 'system', action: 'execution.started', target: 'execution:1', details: {} },
    ]);
    expect(await verifyChain(auditEntries(log))).toMatchObject({ ok: true, count: 2 });
    await expect(a.pool.query(`UPDATE audit_entry SET actor = 'mallory' WHERE seq = 2`)).rejects.toThrow(/append-only/);
    await expect(a.pool.query(`DELETE FROM audit_entry WHERE seq = 2`)).rejects.toThrow(/append-only/);
    const client = await a.pool.connect();
    try {
      await client.query(`SET session_replication_role = replica`);
      await client.query(`UPDATE audit_entry SET details = jsonb_set(details, '{n}', '2') WHERE seq = 1`);
      await client.query(`RESET session_replication_role`);
    } finally {
      client.release(true);
    }
    expect(await verifyChain(auditEntries(log))).toMatchObject({ ok: false, brokenAt: 1, reason: 'hash-mismatch' });
  });
});
