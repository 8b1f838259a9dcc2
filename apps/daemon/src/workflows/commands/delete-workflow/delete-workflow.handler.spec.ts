import { describe, expect, it, jest } from '@jest/globals';
import { webhookDefinition } from '../../../testing/fakes.js';
import { MemoryWorkflowRepository } from '../../../testing/memory-workflow-repository.js';
import { DeleteWorkflowCommand } from './delete-workflow.command.js';
import { DeleteWorkflowHandler } from './delete-workflow.handler.js';

describe('DeleteWorkflowHandler', () => {
  it('deletes the workflow and stops its triggers', async () => {
    const repo = new MemoryWorkflowRepository();
    const triggers = { assertCanActivate: jest.fn((_w: unknown) => undefined), apply: jest.fn(), remove: jest.fn(async (_id: string) => undefined) };
    const handler = new DeleteWorkflowHandler(repo, triggers as never, { publish: jest.fn() } as never);
    const wf = await repo.create(webhookDefinition({ path: 'a' }));
    await handler.execute(new DeleteWorkflowCommand(wf.id));
    expect(await repo.get(wf.id)).toBeUndefined();
    expect(triggers.remove).toHaveBeenCalledWith(wf.id);
    await expect(handler.execute(new DeleteWorkflowCommand(wf.id))).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
