import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { openDatabase, type Database } from '../database/open-database.js';
import { FakeExecution } from '../testing/fake-execution.js';

/** the stored row is a summary: node runs are folded from the events (Engine.describe) */
const summaryOf = (run: FakeExecution) => ({ ...run.view(), nodeRuns: [] });
import { createTestDatabase } from '../testing/test-database.js';
import { PgExecutionReader } from './pg-execution-reader.adapter.js';
import { PgExecutionStore } from './pg-execution-store.adapter.js';

const testDb = await createTestDatabase();

(testDb ? describe : describe.skip)('PgExecutionReader', () => {
  let db: Database;
  let store: PgExecutionStore;
  let reader: PgExecutionReader;
  const workflowId = randomUUID();
  const runs: FakeExecution[] = [];

  beforeAll(async () => {
    db = await openDatabase({ databaseUrl: testDb!.url, dataDir: '/nonexistent' });
    store = new PgExecutionStore(db);
    reader = new PgExecutionReader(db);
    const base = Date.UTC(2026, 5, 1);
    // two share a start time: the id breaks the tie, and pages must neither skip nor repeat them
    for (const [i, startedAt] of [base, base + 1000, base + 1000, base + 2000, base + 3000].entries()) {
      const run = new FakeExecution(store, { workflowId, startedAt }).start({ i }).nodeSucceeded('a');
      if (i % 2 === 0) run.finish('succeeded');
      runs.push(run);
    }
    new FakeExecution(store, { startedAt: base + 1500 }).start(); // another workflow
    await store.durable();
  });
  afterAll(async () => {
    await store?.close();
    await db?.close();
    await testDb?.drop();
  });

  const newestFirst = () => [...runs].sort((a, b) => b.view().startedAt - a.view().startedAt || (a.id < b.id ? 1 : -1));

  it('pages through the executions of a workflow, newest first, with an opaque cursor', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await reader.list({ workflowId, limit: 2, cursor });
      seen.push(...page.items.map((s) => s.id));
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual(newestFirst().map((r) => r.id));
  });

  it('returns summaries without input, output or node runs', async () => {
    const { items } = await reader.list({ workflowId, limit: 1 });
    const { input: _input, output: _output, nodeRuns: _nodeRuns, ...summary } = newestFirst()[0]!.view();
    expect(items).toEqual([summary]);
    for (const heavy of ['input', 'output', 'nodeRuns']) expect(items[0]).not.toHaveProperty(heavy);
  });

  it('filters by status, and by status and workflow together', async () => {
    const succeeded = await reader.list({ workflowId, status: 'succeeded', limit: 10 });
    expect(succeeded.items.map((s) => s.id).sort()).toEqual(runs.filter((_, i) => i % 2 === 0).map((r) => r.id).sort());
    expect(succeeded.nextCursor).toBeUndefined();
    const all = await reader.list({ status: 'running', limit: 100 });
    expect(all.items.length).toBe(3);
    expect(await reader.list({ workflowId: randomUUID(), limit: 10 })).toEqual({ items: [] });
  });

  it('rejects a cursor it did not issue', async () => {
    await expect(reader.list({ limit: 10, cursor: 'bogus' })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });

  it('reads one execution and its events after a seq, limited', async () => {
    const run = runs[0]!;
    expect(await reader.get(run.id)).toEqual(summaryOf(run));
    expect(await reader.events(run.id)).toEqual(run.appended);
    expect(await reader.events(run.id, { afterSeq: 1, limit: 1 })).toEqual([run.appended[1]]);
    expect(await reader.events(run.id, { afterSeq: 99 })).toEqual([]);
    expect(await reader.events('nope')).toEqual([]);
  });
});
