import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { historyGenesis, receiptBodyOf, verifyHistory, type ExecutionStore } from '@anchorflow/engine';
import { openDatabase, type Database } from '../database/open-database.js';
import { FakeExecution } from '../testing/fake-execution.js';
import { createTestDatabase } from '../testing/test-database.js';
import { PgExecutionReader } from './pg-execution-reader.adapter.js';
import { PgExecutionLeases } from './pg-execution-leases.adapter.js';
import { PgExecutionStore } from './pg-execution-store.adapter.js';

const testDb = await createTestDatabase();

/** the fake drives one store; after a "restart" it goes on with another */
function moveTo(run: FakeExecution, store: ExecutionStore): FakeExecution {
  (run as unknown as { store: ExecutionStore }).store = store;
  return run;
}

(testDb ? describe : describe.skip)('history hash chain on PostgreSQL (receipts)', () => {
  let db: Database;
  let reader: PgExecutionReader;
  const stores: PgExecutionStore[] = [];

  beforeAll(async () => {
    db = await openDatabase({ databaseUrl: testDb!.url, dataDir: '/nonexistent' });
    reader = new PgExecutionReader(db);
  });
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close(2_000).catch(() => undefined)));
  });
  afterAll(async () => {
    await db?.close();
    await testDb?.drop();
  });

  function newStore(options: ConstructorParameters<typeof PgExecutionStore>[1] = {}): PgExecutionStore {
    const store = new PgExecutionStore(db, options);
    stores.push(store);
    return store;
  }

  const hashed = async (id: string) => (await reader.events(id, { hashes: true })) as unknown as Array<Record<string, unknown>>;

  it('every stored event carries its link; the chain verifies across flushes and names the head of the receipt', async () => {
    const store = newStore();
    const run = new FakeExecution(store).start({ amount: 120, 'é': 'ü' });
    await store.durable(); // a second flush continues the chain where the first ended
    run.nodeSucceeded('a').nodeSucceeded('b', { main: { nested: { z: 1, a: [1, 2.5, 'x'] } } }).finish('succeeded');
    await store.durable();

    const events = await hashed(run.id);
    expect(events).toHaveLength(6);
    expect(events.every((e) => typeof e.hash === 'string')).toBe(true);
    const check = verifyHistory(run.id, events);
    expect(check).toEqual({ ok: true, count: 6, head: events[5]!.hash });
    expect(receiptBodyOf(run.id, events)).toEqual({ v: 1, executionId: run.id, workflowId: run.workflowId, version: 1, status: 'succeeded', eventCount: 6, historyHead: events[5]!.hash });
    // the engine's reads are unchanged: no hash
    expect(await store.events(run.id)).toEqual(run.appended);
    expect(Object.keys((await reader.events(run.id))[0]!)).not.toContain('hash');
    // another execution id cannot borrow the history
    expect(verifyHistory(historyGenesis('x').slice(2, 38), events).ok).toBe(false);
  });

  it('a restarted store (history read back, as recovery does) and a store that never read it both continue the chain', async () => {
    const first = newStore();
    const a = new FakeExecution(first).start().nodeSucceeded('one');
    const b = new FakeExecution(first).start().nodeSucceeded('one');
    await first.close();

    const afterRestart = newStore();
    await afterRestart.events(a.id); // recovery reads the history first
    moveTo(a, afterRestart).nodeSucceeded('two').finish();
    moveTo(b, afterRestart).nodeSucceeded('two').finish(); // never read: the store looks its head up before flushing
    await afterRestart.durable();

    for (const run of [a, b]) expect(verifyHistory(run.id, await hashed(run.id))).toMatchObject({ ok: true, count: 6 });
  });

  it('a released execution keeps no head in memory, and continues its chain when it runs again (read back or not)', async () => {
    const store = newStore();
    const leases = new PgExecutionLeases(store);
    const heads = (store as unknown as { heads: Map<string, unknown> }).heads;
    const read = new FakeExecution(store).start().nodeWaiting('wait', { until: Date.now() + 86_400_000 });
    const unread = new FakeExecution(store).start().nodeWaiting('wait', { until: Date.now() + 86_400_000 });
    await store.durable();
    expect(heads.has(read.id)).toBe(true);
    // the engine drops an execution waiting beyond the horizon from memory and releases it
    await leases.release([read.id, unread.id]);
    expect(heads.has(read.id) || heads.has(unread.id)).toBe(false);
    // woken later: one is loaded with its history (as the engine does), the other is appended to directly
    await store.events(read.id);
    read.nodeSucceeded('wait').finish();
    unread.nodeSucceeded('wait').finish();
    await store.durable();
    for (const run of [read, unread]) expect(verifyHistory(run.id, await hashed(run.id))).toMatchObject({ ok: true, count: 5 });
  });

  it('a failed flush is retried with the hashes it computed, and events appended meanwhile continue the same chain', async () => {
    let failures = 1;
    const flaky = Object.create(db.pool) as typeof db.pool;
    flaky.query = ((...args: Parameters<typeof db.pool.query>) =>
      failures-- > 0 ? Promise.reject(Object.assign(new Error('connection lost'), { code: '08006' })) : db.pool.query(...args)) as typeof db.pool.query;
    const store = new PgExecutionStore({ pool: flaky }, { retryInitialMs: 10, retryMaxMs: 20 });
    stores.push(store);
    const run = new FakeExecution(store).start().nodeSucceeded('a');
    await expect(store.durable()).rejects.toMatchObject({ code: 'STORE_FAILED' });
    run.nodeSucceeded('b').finish(); // merged with the failed batch before its retry
    await store.durable();
    expect(verifyHistory(run.id, await hashed(run.id))).toMatchObject({ ok: true, count: 6 });
  });

  it('editing a stored event in the database makes verification fail at exactly that event', async () => {
    const store = newStore();
    const run = new FakeExecution(store).start().nodeSucceeded('a', { main: { amount: 100 } }).nodeSucceeded('b').finish();
    await store.durable();
    await db.pool.query(`UPDATE execution_event SET events = replace(events, '"amount":100', '"amount":999') WHERE execution_id = $1`, [run.id]);

    const check = verifyHistory(run.id, await hashed(run.id));
    expect(check.ok).toBe(false);
    expect(check.brokenAt).toMatchObject({ seq: 3, type: 'node.succeeded' });
    expect(check.brokenAt!.reason).toMatch(/stored hash/);
    expect(check.count).toBe(2);

    // removing an event is named too
    const other = new FakeExecution(store).start().nodeSucceeded('a').finish();
    await store.durable();
    await db.pool.query(`UPDATE execution_event SET events = (SELECT jsonb_path_query_array(events::jsonb, '$[*] ? (@.seq != 2)')::text) WHERE execution_id = $1`, [other.id]);
    expect(verifyHistory(other.id, await hashed(other.id)).brokenAt).toMatchObject({ seq: 3, index: 1 });
  });

  it('values canonical JSON refuses (lone surrogates) are stored as the store makes them storable, and still verify', async () => {
    const store = newStore();
    const run = new FakeExecution(store).start({ bad: 'a\uD800b' }).finish();
    await store.durable();
    const events = await hashed(run.id);
    expect(verifyHistory(run.id, events).ok).toBe(true);
    expect((events[0]!.input as { bad: string }).bad).toBe('a\uFFFDb');
  });

  it('historyChain: false stores events without hashes (the benchmark baseline)', async () => {
    const store = newStore({ historyChain: false });
    const run = new FakeExecution(store).start().finish();
    await store.durable();
    const events = await hashed(run.id);
    expect(events[0]!.hash).toBeUndefined();
    expect(receiptBodyOf(run.id, events)).toMatch(/no hashes/);
  });
});
