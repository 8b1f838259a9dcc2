import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { EngineError, NodeSucceededEvent } from '@anchorflow/engine';
import { openDatabase, type Database } from '../database/open-database.js';
import { createSqlPool, type SqlPool } from '../database/sql-pool.js';
import { FakeExecution } from '../testing/fake-execution.js';

/** the stored row is a summary: node runs are folded from the events (Engine.describe) */
const summaryOf = (run: FakeExecution) => ({ ...run.view(), nodeRuns: [] });
import { createTestDatabase } from '../testing/test-database.js';
import { buildFlushStatement, PgExecutionStore } from './pg-execution-store.adapter.js';

const testDb = await createTestDatabase();

(testDb ? describe : describe.skip)('PgExecutionStore', () => {
  let db: Database;
  const stores: PgExecutionStore[] = [];
  const pools: SqlPool[] = [];

  beforeAll(async () => {
    db = await openDatabase({ databaseUrl: testDb!.url, dataDir: '/nonexistent' });
  });
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close(2_000).catch(() => undefined)));
    await Promise.all(pools.splice(0).map((p) => p.end()));
  });
  afterAll(async () => {
    await db?.close();
    await testDb?.drop();
  });

  function newStore(options: ConstructorParameters<typeof PgExecutionStore>[1] = {}, pool: SqlPool = db.pool): PgExecutionStore {
    const store = new PgExecutionStore({ pool }, options);
    stores.push(store);
    return store;
  }

  async function count(sql: string, values: unknown[] = []): Promise<number> {
    const { rows } = await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${sql}`, values);
    return rows[0]!.n;
  }

  it('commits appended events in seq order and the projection as the view was at commit', async () => {
    const store = newStore();
    const run = new FakeExecution(store).start({ amount: 120 }).nodeSucceeded('start').nodeSucceeded('check', { true: { amount: 120 } });
    run.finish('succeeded', { check: { amount: 120 } });

    await store.durable();

    // read back through a new store, as after a restart
    const fresh = newStore();
    expect(await fresh.events(run.id)).toEqual(run.appended);
    expect((await fresh.events(run.id)).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(await fresh.get(run.id)).toEqual(summaryOf(run));
    expect(await fresh.get(randomUUID())).toBeUndefined();
    expect(await fresh.get('not-a-uuid')).toBeUndefined();
  });

  it('groups appends made in the same tick into one transaction, and appends made during a flush into the next', async () => {
    const store = newStore();
    const runs = Array.from({ length: 200 }, () => new FakeExecution(store).start());
    await store.durable();
    expect(store.stats()).toMatchObject({ flushes: 1, eventsWritten: 200, projectionsWritten: 200, pendingEvents: 0 });
    expect(await count('execution WHERE id = ANY($1::uuid[])', [runs.map((r) => r.id)])).toBe(200);

    // 50 concurrent "executions", each waiting for durability after every step (as before a side effect)
    const before = store.stats().flushes;
    await Promise.all(runs.slice(0, 50).map(async (run) => {
      for (let step = 0; step < 10; step++) {
        run.nodeSucceeded(`n${step}`);
        await store.durable();
      }
    }));
    const flushes = store.stats().flushes - before;
    expect(store.stats().eventsWritten).toBe(200 + 50 * 10 * 2);
    // 500 durable() calls; without grouping that would be 500 transactions
    expect(flushes).toBeLessThanOrEqual(25);
  });

  it('splits a backlog larger than maxBatchEvents into several flushes, keeping each execution whole', async () => {
    const store = newStore({ maxBatchEvents: 5 });
    const runs = Array.from({ length: 4 }, () => new FakeExecution(store).start().nodeSucceeded('a')); // 3 events each
    await store.durable();
    expect(store.stats()).toMatchObject({ flushes: 4, eventsWritten: 12, largestFlushEvents: 3, pendingEvents: 0 });
    for (const run of runs) expect(await store.get(run.id)).toEqual(summaryOf(run));
  });

  it('resolves durable() at once when nothing is pending, and only for appends made before the call', async () => {
    const store = newStore();
    await expect(store.durable()).resolves.toBeUndefined();
    const run = new FakeExecution(store).start();
    const durable = store.durable();
    expect(store.stats().pendingEvents).toBe(1);
    await durable;
    expect(await count('execution_event WHERE execution_id = $1', [run.id])).toBe(1);
  });

  it('rejects durable() with a retryable STORE_FAILED while the database is unreachable and writes the events once it is back', async () => {
    const dbName = new URL(testDb!.url).pathname.slice(1);
    const pool = createSqlPool(testDb!.url, { max: 2 });
    pools.push(pool);
    const store = newStore({ retryInitialMs: 20, retryMaxMs: 100 }, pool);
    const warmup = new FakeExecution(store).start();
    await store.durable();

    const admin = createSqlPool(process.env.PG_TEST_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres', { max: 1 });
    pools.push(admin);
    await admin.query(`ALTER DATABASE ${dbName} ALLOW_CONNECTIONS false`);
    try {
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [dbName]);
      warmup.nodeSucceeded('a').nodeSucceeded('b');
      const failure = await store.durable().then(() => undefined, (error: unknown) => error);
      expect(failure).toBeInstanceOf(EngineError);
      expect(failure).toMatchObject({ code: 'STORE_FAILED', retryable: true });
      expect(store.stats().failedFlushes).toBeGreaterThan(0);
      expect(store.stats().pendingEvents).toBe(4);
    } finally {
      await admin.query(`ALTER DATABASE ${dbName} ALLOW_CONNECTIONS true`);
    }
    await store.durable();
    expect(store.stats().pendingEvents).toBe(0);
    await db.pool.query('SELECT 1').catch(() => undefined); // the shared pool lost its connections too
    const fresh = newStore();
    expect(await fresh.events(warmup.id)).toEqual(warmup.appended);
    expect(await fresh.get(warmup.id)).toEqual(summaryOf(warmup));
  });

  it('writes a flush twice without duplicates (a commit whose acknowledgement was lost is retried)', async () => {
    const store = newStore();
    const run = new FakeExecution(store).start().nodeSucceeded('a');
    const statement = buildFlushStatement([{ executionId: run.id, events: run.appended, view: run.view, firstAppend: 1 }]);
    await db.pool.query(statement);
    await db.pool.query(statement);
    await store.durable();
    // one row per (execution, commit), holding the three events once
    expect(await count('execution_event WHERE execution_id = $1', [run.id])).toBe(1);
    expect((await store.events(run.id)).map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(await store.get(run.id)).toEqual(summaryOf(run));
  });

  it('never lets an older projection overwrite a newer one', async () => {
    const store = newStore();
    const run = new FakeExecution(store).start();
    const older = run.view();
    run.nodeSucceeded('a');
    await store.durable();
    await db.pool.query(buildFlushStatement([{ executionId: run.id, events: [], view: () => older, firstAppend: 1 }]));
    expect(await store.get(run.id)).toEqual(summaryOf(run));
  });

  it('keeps resume tokens in step with waiting node runs, and finds uncommitted ones', async () => {
    const store = newStore();
    const token = randomUUID().replaceAll('-', '');
    const run = new FakeExecution(store).start().nodeWaiting('approve', { token });
    // not committed yet: found in memory
    expect(await store.findResumeToken(token)).toEqual({ executionId: run.id, nodeId: 'approve' });
    await store.durable();
    expect(await newStore().findResumeToken(token)).toEqual({ executionId: run.id, nodeId: 'approve' });
    expect(await store.findResumeToken(token)).toEqual({ executionId: run.id, nodeId: 'approve' });

    run.nodeResumed('approve');
    // consumed in memory: the committed row must not be handed out any more
    expect(await store.findResumeToken(token)).toBeUndefined();
    await store.durable();
    expect(await count('resume_token WHERE execution_id = $1', [run.id])).toBe(0);
    expect(await newStore().findResumeToken(token)).toBeUndefined();
  });

  it('lists due wake-ups of unfinished executions, earliest first', async () => {
    const store = newStore();
    const base = Date.UTC(2030, 0, 1);
    const late = new FakeExecution(store).start().nodeWaiting('wait', { until: base + 3_000 });
    const first = new FakeExecution(store).start().nodeWaiting('wait', { until: base + 1_000 });
    const second = new FakeExecution(store).start().nodeWaiting('wait', { until: base + 2_000 });
    new FakeExecution(store).start().nodeWaiting('wait', { until: base + 500 }).finish('cancelled');
    await store.durable();

    const due = (await store.dueWakeUps(base + 2_500, 10)).filter((d) => d.wakeAt >= base);
    expect(due).toEqual([{ executionId: first.id, wakeAt: base + 1_000 }, { executionId: second.id, wakeAt: base + 2_000 }]);
    expect((await store.dueWakeUps(base + 5_000, 100)).map((d) => d.executionId)).toContain(late.id);
    expect(await store.dueWakeUps(base + 2_500, 1)).toHaveLength(1);
  });

  it('lists unfinished executions', async () => {
    const store = newStore();
    const running = new FakeExecution(store).start();
    const waiting = new FakeExecution(store).start().nodeWaiting('w', { token: randomUUID() });
    const done = new FakeExecution(store).start().finish('succeeded');
    const failed = new FakeExecution(store).start().finish('failed');
    await store.durable();
    const unfinished = await store.unfinished();
    expect(unfinished).toEqual(expect.arrayContaining([running.id, waiting.id]));
    expect(unfinished).not.toContain(done.id);
    expect(unfinished).not.toContain(failed.id);
  });

  it('finds executions by dedupe key before and after commit; the database keeps the key unique', async () => {
    const store = newStore();
    const workflowId = randomUUID();
    const first = new FakeExecution(store, { workflowId }).start({}, 'invoice-42');
    expect(await store.findByDedupeKey(workflowId, 'invoice-42')).toBe(first.id);
    await store.durable();
    expect(await newStore().findByDedupeKey(workflowId, 'invoice-42')).toBe(first.id);
    expect(await store.findByDedupeKey(workflowId, 'invoice-43')).toBeUndefined();
    expect(await store.findByDedupeKey(randomUUID(), 'invoice-42')).toBeUndefined();

    await expect(db.pool.query(
      `INSERT INTO execution (id, workflow_id, workflow_version, status, dedupe_key, started_at, seq) VALUES ($1, $2, 1, 'running', 'invoice-42', now(), 1)`,
      [randomUUID(), workflowId])).rejects.toMatchObject({ code: '23505' });

    // a duplicate that slipped through (another daemon) is still stored, without the key
    const dupStore = newStore();
    const duplicate = new FakeExecution(dupStore, { workflowId }).start({}, 'invoice-42');
    await dupStore.durable();
    expect(await count('execution_event WHERE execution_id = $1', [duplicate.id])).toBe(1);
    expect((await dupStore.get(duplicate.id))?.dedupeKey).toBeUndefined();
    expect(await dupStore.findByDedupeKey(workflowId, 'invoice-42')).toBe(first.id);
  });

  it('stores values jsonb cannot hold as such (NUL characters, lone surrogates, bigints, cycles) instead of failing the batch', async () => {
    const store = newStore();
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    const run = new FakeExecution(store).start({ text: 'a\u0000b', broken: '\uD800x', big: 12345678901234567890n, cyclic });
    await store.durable();
    const started = (await store.events(run.id))[0] as unknown as { input: Record<string, unknown> };
    expect(started.input).toEqual({ text: 'a\uFFFDb', broken: '\uFFFDx', big: '12345678901234567890', cyclic: { name: 'loop', self: '[Circular]' } });
  });

  it('commits the other executions of a batch when one cannot be stored, and keeps retrying that one', async () => {
    const errors: string[] = [];
    const store = newStore({ retryInitialMs: 10, retryMaxMs: 50, logger: { error: (m) => errors.push(m), warn: () => undefined } });
    const good1 = new FakeExecution(store).start();
    const bad = new FakeExecution(store, { workflowId: 'not-a-uuid' }).start();
    const good2 = new FakeExecution(store).start();
    await expect(store.durable()).rejects.toMatchObject({ code: 'STORE_FAILED' });
    // the next attempts go execution by execution
    while (!(await store.get(good2.id))) await store.durable().catch(() => undefined);
    expect(await store.get(good1.id)).toEqual(summaryOf(good1));
    expect(await store.get(bad.id)).toBeUndefined();
    expect(store.stats().pendingEvents).toBe(1);
    expect(errors.some((m) => m.includes(bad.id))).toBe(true);
    await expect(store.close(200)).rejects.toMatchObject({ code: 'STORE_FAILED' });
  });

  it('flushes on close and refuses appends afterwards', async () => {
    const store = newStore();
    const run = new FakeExecution(store).start();
    await store.close();
    expect(await count('execution_event WHERE execution_id = $1', [run.id])).toBe(1);
    expect(() => store.append([new NodeSucceededEvent(run.id, 2, Date.now(), 'a', 1, {}, Date.now())], run.view)).toThrow(EngineError);
  });
});
