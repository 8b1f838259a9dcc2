import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { openDatabase, type Database } from '../database/open-database.js';
import { FakeExecution } from '../testing/fake-execution.js';
import { createTestDatabase } from '../testing/test-database.js';
import { PgExecutionLeases } from './pg-execution-leases.adapter.js';
import { PgExecutionStore } from './pg-execution-store.adapter.js';

/** the leases adapter of a daemon's store */
const leases = (store: PgExecutionStore) => new PgExecutionLeases(store);

const testDb = await createTestDatabase();

(testDb ? describe : describe.skip)('PgExecutionStore leases (two daemons on one database)', () => {
  let db: Database;
  const stores: PgExecutionStore[] = [];

  beforeAll(async () => {
    db = await openDatabase({ databaseUrl: testDb!.url, dataDir: '/nonexistent' });
  });
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close(2_000).catch(() => undefined)));
    await db.pool.query('DELETE FROM execution');
  });
  afterAll(async () => {
    await db?.close();
    await testDb?.drop();
  });

  const daemon = (owner: string, leaseMs = 60_000) => {
    const store = new PgExecutionStore(db, { owner, leaseMs });
    stores.push(store);
    return store;
  };
  const expire = (id: string) => db.pool.query(`UPDATE execution SET lease_expires_at = now() - interval '1 second' WHERE id = $1`, [id]);

  it('a new execution belongs to the daemon that started it; the other cannot claim it while the lease lives', async () => {
    const a = daemon('a');
    const b = daemon('b');
    const run = new FakeExecution(a).start().nodeSucceeded('start');
    await a.durable();
    expect(await leases(b).claimUnfinished(10, 60_000)).toEqual([]);
    expect(await leases(b).claim(run.id)).toBe(false);
    // a restarted "a" (same id) gets its own executions back at once
    expect(await leases(daemon('a')).claimUnfinished(10, 60_000)).toEqual([run.id]);
  });

  it('after the lease expires the other daemon takes over, and the first learns it lost it', async () => {
    const a = daemon('a');
    const b = daemon('b');
    const run = new FakeExecution(a).start().nodeSucceeded('start');
    await a.durable();
    await expire(run.id);
    expect(await leases(b).claimUnfinished(10, 60_000)).toEqual([run.id]);
    expect(await leases(a).renew([run.id])).toEqual({ lost: [run.id], cancelRequested: [] });
    expect(await leases(b).renew([run.id])).toEqual({ lost: [], cancelRequested: [] });
  });

  it('two daemons claiming at once never both get the same execution', async () => {
    const a = daemon('a');
    const runs = Array.from({ length: 40 }, () => new FakeExecution(a).start());
    await a.durable();
    await db.pool.query(`UPDATE execution SET lease_expires_at = now() - interval '1 second'`);
    const [x, y] = await Promise.all([leases(daemon('x')).claimUnfinished(40, 60_000), leases(daemon('y')).claimUnfinished(40, 60_000)]);
    expect(x.filter((id) => y.includes(id))).toEqual([]);
    expect(new Set([...x, ...y]).size).toBe(runs.length);
  });

  it('an idle waiting execution far from its wake-up is released and not claimed until it is due', async () => {
    const a = daemon('a');
    const b = daemon('b');
    const far = new FakeExecution(a).start().nodeWaiting('wait', { until: Date.now() + 3_600_000 });
    const soon = new FakeExecution(a).start().nodeWaiting('wait', { until: Date.now() + 1_000 });
    await a.durable();
    await leases(a).release([far.id, soon.id]);
    expect((await leases(b).claimUnfinished(10, 60_000)).sort()).toEqual([soon.id]);
    expect((await b.dueWakeUps(Date.now() + 7_200_000, 10)).map((w) => w.executionId).sort()).toEqual([far.id, soon.id].sort());
    expect(await leases(b).claim(far.id)).toBe(true);
  });

  it('claims the oldest of what can run and what is due, within the limit; many far waits do not hide them', async () => {
    const a = daemon('a');
    const far = Array.from({ length: 200 }, () => new FakeExecution(a).start().nodeWaiting('wait', { until: Date.now() + 86_400_000 }));
    const running = new FakeExecution(a).start().nodeSucceeded('start');
    const due = new FakeExecution(a).start().nodeWaiting('wait', { until: Date.now() + 500 });
    const later = new FakeExecution(a).start().nodeSucceeded('start');
    await a.durable();
    // start times in a known order: running < due < later, the far waits older than all of them
    await db.pool.query(`UPDATE execution SET started_at = now() - interval '1 hour' WHERE id = ANY($1::uuid[])`, [far.map((f) => f.id)]);
    for (const [i, run] of [running, due, later].entries()) await db.pool.query(`UPDATE execution SET started_at = now() - ($2::int * interval '1 minute') WHERE id = $1`, [run.id, 30 - i]);
    await db.pool.query(`UPDATE execution SET lease_expires_at = now() - interval '1 second'`);
    // each claim by another daemon: what one holds (a live lease) the next cannot take
    const claimed = await leases(daemon('b')).claimUnfinished(2, 60_000);
    expect(claimed.sort()).toEqual([running.id, due.id].sort());
    expect(await leases(daemon('c')).claimUnfinished(2, 60_000)).toEqual([later.id]);
    expect(await leases(daemon('d')).claimUnfinished(10, 60_000)).toEqual([]);
  });

  it('a cancel asked on another daemon reaches the holder at its next renewal', async () => {
    const a = daemon('a');
    const b = daemon('b');
    const run = new FakeExecution(a).start();
    await a.durable();
    expect(await leases(b).requestCancel(run.id, 'stop it')).toBe(true);
    expect(await leases(a).renew([run.id])).toEqual({ lost: [], cancelRequested: [{ executionId: run.id, reason: 'stop it' }] });
    run.finish('cancelled');
    await a.durable();
    expect(await leases(b).requestCancel(run.id, 'again')).toBe(false);
  });
});
