import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { WorkflowDefinition } from '@anchorflow/engine';
import { openDatabase, type Database } from '../database/open-database.js';
import { createTestDatabase } from '../testing/test-database.js';
import { PgWorkflowRepository } from './pg-workflow-repository.adapter.js';

const testDb = await createTestDatabase();

function graph(name: string, nodes = 2): WorkflowDefinition {
  const ids = Array.from({ length: nodes }, (_, i) => `n${i}`);
  return {
    name,
    nodes: ids.map((id, i) => ({ id, type: i === 0 ? 'core.trigger.manual' : 'core.noop', params: {} })),
    edges: ids.slice(1).map((id, i) => ({ from: ids[i]!, to: id })),
  };
}

(testDb ? describe : describe.skip)('PgWorkflowRepository', () => {
  let db: Database;
  let repo: PgWorkflowRepository;

  beforeAll(async () => {
    db = await openDatabase({ databaseUrl: testDb!.url, dataDir: '/nonexistent' });
    repo = new PgWorkflowRepository(db);
  });
  afterAll(async () => {
    await db?.close();
    await testDb?.drop();
  });

  it('creates version 1 and reads it back', async () => {
    const created = await repo.create(graph('Invoice → anchor'));
    expect(created).toMatchObject({ name: 'Invoice → anchor', version: 1, active: false, definition: graph('Invoice → anchor') });
    expect(new Date(created.createdAt).toISOString()).toBe(created.createdAt);
    expect(await repo.get(created.id)).toEqual(created);
    expect(await repo.getVersion(created.id, 1)).toEqual(graph('Invoice → anchor'));
    expect(await repo.get('not-a-uuid')).toBeUndefined();
  });

  it('adds versions, keeps the old ones, and refuses a stale expected version with CONFLICT', async () => {
    const { id } = await repo.create(graph('v1'));
    const v2 = await repo.update(id, 1, graph('v2', 3));
    expect(v2).toMatchObject({ id, version: 2, name: 'v2', definition: graph('v2', 3) });
    expect((await repo.get(id))?.version).toBe(2);
    expect((await repo.get(id, 1))?.definition).toEqual(graph('v1'));
    expect(await repo.get(id, 3)).toBeUndefined();
    await expect(repo.update(id, 1, graph('stale'))).rejects.toMatchObject({ code: 'CONFLICT', details: { expectedVersion: 1, currentVersion: 2 } });
  });

  it('lets exactly one of concurrent updates from the same version win', async () => {
    const { id } = await repo.create(graph('race'));
    const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => repo.update(id, 1, graph(`writer ${i}`))));
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost.map((r) => (r.reason as { code: string }).code)).toEqual(Array(7).fill('CONFLICT'));
    const current = await repo.get(id);
    expect(current?.version).toBe(2);
    expect(current?.definition).toEqual((won[0] as PromiseFulfilledResult<{ definition: WorkflowDefinition }>).value.definition);
  });

  it('soft-deletes: gone for the API, NOT_FOUND on update, versions still readable for running executions', async () => {
    const { id } = await repo.create(graph('doomed'));
    expect(await repo.delete(id)).toBe(true);
    expect(await repo.delete(id)).toBe(false);
    expect(await repo.get(id)).toBeUndefined();
    expect(await repo.getVersion(id, 1)).toEqual(graph('doomed'));
    await expect(repo.update(id, 1, graph('x'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(repo.setActive(id, true)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(repo.update('00000000-0000-4000-8000-000000000000', 1, graph('x'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('activates and lists active workflows at their latest version', async () => {
    const a = await repo.create(graph('active one'));
    await repo.update(a.id, 1, graph('active one v2', 4));
    const activated = await repo.setActive(a.id, true);
    expect(activated).toMatchObject({ id: a.id, active: true, version: 2 });
    const active = await repo.listActive();
    expect(active.map((w) => w.id)).toContain(a.id);
    expect(active.find((w) => w.id === a.id)).toMatchObject({ version: 2, definition: graph('active one v2', 4) });
    await repo.setActive(a.id, false);
    expect((await repo.listActive()).map((w) => w.id)).not.toContain(a.id);
  });

  it('lists summaries oldest first with cursor pagination and an active filter', async () => {
    const fresh = new PgWorkflowRepository(db);
    const before = await collect(fresh, {});
    const mine = [];
    for (let i = 0; i < 5; i++) mine.push(await fresh.create(graph(`list ${i}`, i + 1)));
    await fresh.setActive(mine[3]!.id, true);
    const all = await collect(fresh, {});
    expect(all.slice(before.length).map((w) => w.id)).toEqual(mine.map((w) => w.id));
    expect(all.slice(before.length).map((w) => w.nodeCount)).toEqual([1, 2, 3, 4, 5]);
    expect(all[all.length - 1]).toEqual({ ...mine[4], definition: undefined, nodeCount: 5 });
    expect((await collect(fresh, { active: true })).map((w) => w.id)).toContain(mine[3]!.id);
    expect((await collect(fresh, { active: false })).map((w) => w.id)).not.toContain(mine[3]!.id);
  });
});

async function collect(repo: PgWorkflowRepository, filter: { active?: boolean }) {
  const items = [];
  let cursor: string | undefined;
  do {
    const page = await repo.list({ limit: 2, cursor, ...filter });
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return items;
}
