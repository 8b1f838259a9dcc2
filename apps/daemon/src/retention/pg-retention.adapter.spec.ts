import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { createTestDatabase, openDatabase, type Database } from '@anchorflow/persistence';
import { DAY_MS, pruneOnce } from './retention-pruner.js';
import { PgRetentionStore } from './pg-retention.adapter.js';

const testDb = await createTestDatabase();

(testDb ? describe : describe.skip)('PgRetentionStore on PostgreSQL', () => {
  let db: Database;
  const wfA = randomUUID();
  const wfB = randomUUID();
  const ids: Record<string, string> = {};

  async function insert(name: string, workflowId: string, status: string, ageDays: number): Promise<void> {
    const id = randomUUID();
    ids[name] = id;
    const started = new Date(Date.now() - ageDays * DAY_MS - 60_000);
    const finished = ['succeeded', 'failed', 'cancelled'].includes(status) ? new Date(Date.now() - ageDays * DAY_MS) : null;
    await db.pool.query(
      `INSERT INTO execution (id, workflow_id, workflow_version, status, started_at, finished_at, seq) VALUES ($1, $2, 1, $3, $4, $5, 3)`,
      [id, workflowId, status, started, finished]);
    for (let seq = 1; seq <= 3; seq++) {
      await db.pool.query(`INSERT INTO execution_event (execution_id, seq, last_seq, events) VALUES ($1, $2, $2, '[{"type":"node.started"}]')`, [id, seq]);
    }
    await db.pool.query(`INSERT INTO resume_token (token, execution_id, node_id) VALUES ($1, $2, 'n')`, [`tok-${id}`, id]);
  }

  const remaining = async (): Promise<string[]> => {
    const { rows } = await db.pool.query<{ id: string }>('SELECT id FROM execution');
    const byId = new Map(Object.entries(ids).map(([name, id]) => [id, name]));
    return rows.map((r) => byId.get(r.id)!).sort();
  };
  const eventsOf = async (name: string): Promise<number> => Number((await db.pool.query<{ n: string }>('SELECT count(*) AS n FROM execution_event WHERE execution_id = $1', [ids[name]])).rows[0]!.n);

  beforeAll(async () => {
    db = await openDatabase({ databaseUrl: testDb!.url, dataDir: '/nonexistent' });
  });
  // every test starts from the same executions (they run in any order)
  beforeEach(async () => {
    await db.pool.query('DELETE FROM resume_token');
    await db.pool.query('DELETE FROM execution_event');
    await db.pool.query('DELETE FROM execution');
    await insert('oldOk', wfA, 'succeeded', 40);
    await insert('oldFailed', wfA, 'failed', 35);
    await insert('oldCancelled', wfB, 'cancelled', 31);
    await insert('oldRunning', wfA, 'running', 60);
    await insert('oldWaiting', wfB, 'waiting', 60);
    await insert('new1', wfA, 'succeeded', 3);
    await insert('new2', wfA, 'succeeded', 2);
    await insert('new3', wfA, 'failed', 1);
    await insert('newB', wfB, 'succeeded', 1);
  });
  afterAll(async () => {
    await db?.close();
    await testDb?.drop();
  });

  it('by age: deletes finished executions older than the cutoff with their events and tokens, nothing else', async () => {
    const result = await pruneOnce(new PgRetentionStore(db), { maxAgeDays: 30, batchSize: 2 });
    expect(result).toMatchObject({ byAge: 3, byCount: 0 });
    expect(await remaining()).toEqual(['new1', 'new2', 'new3', 'newB', 'oldRunning', 'oldWaiting']);
    expect(await eventsOf('oldOk')).toBe(0);
    expect(await eventsOf('oldRunning')).toBe(3);
    const tokens = await db.pool.query<{ n: string }>('SELECT count(*) AS n FROM resume_token');
    expect(Number(tokens.rows[0]!.n)).toBe(6);
  });

  it('by count: keeps the newest N finished executions of each workflow, never unfinished ones', async () => {
    // after the pass by age (the old ones are gone)
    expect(await pruneOnce(new PgRetentionStore(db), { maxAgeDays: 30, batchSize: 10 })).toMatchObject({ byAge: 3 });
    const result = await pruneOnce(new PgRetentionStore(db), { maxPerWorkflow: 2, batchSize: 1 });
    expect(result).toMatchObject({ byAge: 0, byCount: 1, workflows: 1 });
    expect(await remaining()).toEqual(['new2', 'new3', 'newB', 'oldRunning', 'oldWaiting']);
    expect(await eventsOf('new1')).toBe(0);
    expect(await eventsOf('new2')).toBe(3);
  });

  it('a second pass finds nothing more to do', async () => {
    await pruneOnce(new PgRetentionStore(db), { maxAgeDays: 30, maxPerWorkflow: 2, batchSize: 10 });
    expect(await pruneOnce(new PgRetentionStore(db), { maxAgeDays: 30, maxPerWorkflow: 2, batchSize: 10 })).toMatchObject({ byAge: 0, byCount: 0 });
    expect(await remaining()).toHaveLength(5);
  });
});
