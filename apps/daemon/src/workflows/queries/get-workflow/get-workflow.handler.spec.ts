import { describe, expect, it } from '@jest/globals';
import { webhookDefinition } from '../../../testing/fakes.js';
import { MemoryWorkflowRepository } from '../../../testing/memory-workflow-repository.js';
import { GetWorkflowQuery } from './get-workflow.query.js';
import { GetWorkflowHandler } from './get-workflow.handler.js';

describe('GetWorkflowHandler', () => {
  it('returns the latest version by default and a given one on request, flattened', async () => {
    const repo = new MemoryWorkflowRepository();
    const wf = await repo.create(webhookDefinition({ path: 'a' }));
    await repo.update(wf.id, 1, { ...webhookDefinition({ path: 'b' }), name: 'v2' });
    const handler = new GetWorkflowHandler(repo);
    expect(await handler.execute(new GetWorkflowQuery(wf.id))).toMatchObject({ id: wf.id, version: 2, name: 'v2', nodes: expect.any(Array), edges: expect.any(Array) });
    expect(await handler.execute(new GetWorkflowQuery(wf.id, 1))).toMatchObject({ version: 1, name: 'hook' });
    await expect(handler.execute(new GetWorkflowQuery(wf.id, 3))).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('no version 3') });
  });
});
