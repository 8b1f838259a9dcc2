import { describe, expect, it } from '@jest/globals';
import { EngineError } from '@anchorflow/engine';
import { validator } from '../../../testing/fakes.js';
import { MemoryWorkflowRepository } from '../../../testing/memory-workflow-repository.js';
import { WorkflowChangedEvent } from '../../events/workflow-changed.event.js';
import { CreateWorkflowCommand } from './create-workflow.command.js';
import { CreateWorkflowHandler } from './create-workflow.handler.js';

const graph = { name: 'wf', nodes: [{ id: 'start', type: 'core.trigger.manual' }], edges: [] };

describe('CreateWorkflowHandler', () => {
  it('stores a valid workflow as version 1, inactive, and announces it', async () => {
    const repo = new MemoryWorkflowRepository();
    const published: unknown[] = [];
    const handler = new CreateWorkflowHandler(validator(), repo, { publish: (e: unknown) => void published.push(e) } as never);
    const dto = await handler.execute(new CreateWorkflowCommand(graph));
    expect(dto).toMatchObject({ version: 1, active: false, name: 'wf', nodes: graph.nodes, edges: [] });
    expect(await repo.get(dto.id)).toBeDefined();
    expect(published).toEqual([new WorkflowChangedEvent(dto.id, 1, 'created')]);
  });

  it('ignores server-managed fields copied from a GET (id, version, active, timestamps)', async () => {
    const repo = new MemoryWorkflowRepository();
    let validated: unknown;
    const handler = new CreateWorkflowHandler({ validate: (d: unknown) => ((validated = d), []) }, repo, { publish: () => undefined } as never);
    const dto = await handler.execute(new CreateWorkflowCommand({ ...graph, id: 'x', version: 7, active: true, createdAt: 'then', updatedAt: 'then' }));
    expect(validated).toEqual(graph);
    expect(dto.version).toBe(1);
    expect(dto.active).toBe(false);
    expect(dto.id).not.toBe('x');
  });

  it('rejects an invalid graph with every problem, storing nothing', async () => {
    const repo = new MemoryWorkflowRepository();
    const problems = [
      { code: 'DUPLICATE_NODE_ID' as const, message: 'duplicate id a', path: '$.nodes[1].id', nodeId: 'a' },
      { code: 'CYCLE' as const, message: 'cycle a → b → a', path: '$.edges', nodes: ['a', 'b', 'a'] },
    ];
    const handler = new CreateWorkflowHandler(validator(problems), repo, { publish: () => undefined } as never);
    const err = await handler.execute(new CreateWorkflowCommand(graph)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineError);
    expect(err).toMatchObject({ code: 'VALIDATION_FAILED', details: problems });
    expect((err as Error).message).toContain('2 problems');
    expect((await repo.list({ limit: 10 })).items).toHaveLength(0);
  });
});
