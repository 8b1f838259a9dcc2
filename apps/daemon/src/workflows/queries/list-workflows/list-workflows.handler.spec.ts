import { describe, expect, it } from '@jest/globals';
import { webhookDefinition } from '../../../testing/fakes.js';
import { MemoryWorkflowRepository } from '../../../testing/memory-workflow-repository.js';
import { ListWorkflowsQuery } from './list-workflows.query.js';
import { ListWorkflowsHandler } from './list-workflows.handler.js';

describe('ListWorkflowsHandler', () => {
  it('pages through summaries and filters by active', async () => {
    const repo = new MemoryWorkflowRepository();
    const a = await repo.create(webhookDefinition({ path: 'a' }));
    await repo.create(webhookDefinition({ path: 'b' }));
    await repo.setActive(a.id, true);
    const handler = new ListWorkflowsHandler(repo);
    const first = await handler.execute(new ListWorkflowsQuery({ limit: 1 }));
    expect(first.items).toHaveLength(1);
    expect(first.items[0]).not.toHaveProperty('definition');
    expect(first.items[0]?.nodeCount).toBe(2);
    const second = await handler.execute(new ListWorkflowsQuery({ limit: 1, cursor: first.nextCursor }));
    expect(second.items).toHaveLength(1);
    expect(second.nextCursor).toBeUndefined();
    const active = await handler.execute(new ListWorkflowsQuery({ limit: 10, active: true }));
    expect(active.items.map((w) => w.id)).toEqual([a.id]);
  });
});
