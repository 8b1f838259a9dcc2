import { describe, expect, it, jest } from '@jest/globals';
import { EngineError } from '@anchorflow/engine';
import { webhookDefinition } from '../../../testing/fakes.js';
import { MemoryWorkflowRepository } from '../../../testing/memory-workflow-repository.js';
import { SetWorkflowActiveCommand } from './set-workflow-active.command.js';
import { SetWorkflowActiveHandler } from './set-workflow-active.handler.js';

function setup() {
  const repo = new MemoryWorkflowRepository();
  const triggers = { assertCanActivate: jest.fn((_w: unknown) => undefined), apply: jest.fn(async (_w: unknown) => undefined), remove: jest.fn() };
  const events = { publish: jest.fn() };
  return { repo, triggers, events, handler: new SetWorkflowActiveHandler(repo, triggers as never, events as never) };
}

describe('SetWorkflowActiveHandler', () => {
  it('activates: routes checked, flag stored, triggers applied, change announced', async () => {
    const { repo, triggers, events, handler } = setup();
    const wf = await repo.create(webhookDefinition({ path: 'a' }));
    const dto = await handler.execute(new SetWorkflowActiveCommand(wf.id, true));
    expect(dto.active).toBe(true);
    expect((await repo.get(wf.id))?.active).toBe(true);
    expect(triggers.assertCanActivate).toHaveBeenCalled();
    expect(triggers.apply).toHaveBeenCalledWith(expect.objectContaining({ id: wf.id, active: true }));
    expect(events.publish).toHaveBeenCalledWith(expect.objectContaining({ workflowId: wf.id, change: 'activated' }));
  });

  it('does not activate when a route is taken', async () => {
    const { repo, triggers, handler } = setup();
    const wf = await repo.create(webhookDefinition({ path: 'a' }));
    triggers.assertCanActivate.mockImplementation(() => {
      throw new EngineError('CONFLICT', 'taken');
    });
    await expect(handler.execute(new SetWorkflowActiveCommand(wf.id, true))).rejects.toMatchObject({ code: 'CONFLICT' });
    expect((await repo.get(wf.id))?.active).toBe(false);
    expect(triggers.apply).not.toHaveBeenCalled();
  });

  it('deactivating twice is harmless and announced once', async () => {
    const { repo, triggers, events, handler } = setup();
    const wf = await repo.create(webhookDefinition({ path: 'a' }));
    await repo.setActive(wf.id, true);
    await handler.execute(new SetWorkflowActiveCommand(wf.id, false));
    await handler.execute(new SetWorkflowActiveCommand(wf.id, false));
    expect((await repo.get(wf.id))?.active).toBe(false);
    expect(triggers.assertCanActivate).not.toHaveBeenCalled();
    expect(triggers.apply).toHaveBeenCalledTimes(2);
    expect(events.publish).toHaveBeenCalledTimes(1);
  });

  it('404 for an unknown workflow', async () => {
    const { handler } = setup();
    await expect(handler.execute(new SetWorkflowActiveCommand('6f1d1c1e-58f5-4a36-a3b0-0c2e5bb0f009', true))).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
