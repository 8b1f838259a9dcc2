import { describe, expect, it, jest } from '@jest/globals';
import { EngineError } from '@anchorflow/engine';
import { ApiError } from '../../../common/api-error.js';
import { validator, webhookDefinition } from '../../../testing/fakes.js';
import { MemoryWorkflowRepository } from '../../../testing/memory-workflow-repository.js';
import { UpdateWorkflowCommand } from './update-workflow.command.js';
import { UpdateWorkflowHandler } from './update-workflow.handler.js';

function setup(problems = validator()) {
  const repo = new MemoryWorkflowRepository();
  const triggers = { assertCanActivate: jest.fn((_w: unknown) => undefined), apply: jest.fn(async (_w: unknown) => undefined), remove: jest.fn(async (_id: string) => undefined) };
  const events = { publish: jest.fn() };
  const handler = new UpdateWorkflowHandler(problems, repo, triggers as never, events as never);
  return { repo, triggers, events, handler };
}

describe('UpdateWorkflowHandler', () => {
  it('saves a new version when body.version is the current one; old versions stay readable', async () => {
    const { repo, handler, triggers, events } = setup();
    const v1 = await repo.create(webhookDefinition({ path: 'a' }));
    const dto = await handler.execute(new UpdateWorkflowCommand(v1.id, { ...webhookDefinition({ path: 'b' }), name: 'renamed', version: 1 }));
    expect(dto).toMatchObject({ id: v1.id, version: 2, name: 'renamed' });
    expect((await repo.get(v1.id, 1))?.definition.nodes[0]?.params).toEqual({ path: 'a' });
    expect(triggers.apply).not.toHaveBeenCalled(); // inactive: no routes to change
    expect(events.publish).toHaveBeenCalledTimes(1);
  });

  it('409 when the version is stale', async () => {
    const { repo, handler } = setup();
    const v1 = await repo.create(webhookDefinition({ path: 'a' }));
    await repo.update(v1.id, 1, webhookDefinition({ path: 'a' }));
    await expect(handler.execute(new UpdateWorkflowCommand(v1.id, { ...webhookDefinition({ path: 'a' }), version: 1 }))).rejects.toMatchObject({ code: 'CONFLICT', details: { currentVersion: 2 } });
  });

  it('400 without a version, 404 for an unknown workflow', async () => {
    const { handler } = setup();
    await expect(handler.execute(new UpdateWorkflowCommand('6f1d1c1e-58f5-4a36-a3b0-0c2e5bb0f009', webhookDefinition({ path: 'a' })))).rejects.toBeInstanceOf(ApiError);
    await expect(handler.execute(new UpdateWorkflowCommand('6f1d1c1e-58f5-4a36-a3b0-0c2e5bb0f009', { ...webhookDefinition({ path: 'a' }), version: 1 }))).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('re-routes the triggers of an active workflow, after checking the new routes are free', async () => {
    const { repo, handler, triggers } = setup();
    const v1 = await repo.create(webhookDefinition({ path: 'a' }));
    await repo.setActive(v1.id, true);
    await handler.execute(new UpdateWorkflowCommand(v1.id, { ...webhookDefinition({ path: 'b' }), version: 1 }));
    expect(triggers.assertCanActivate).toHaveBeenCalledWith({ id: v1.id, definition: webhookDefinition({ path: 'b' }) });
    expect(triggers.apply).toHaveBeenCalledWith(expect.objectContaining({ id: v1.id, version: 2, active: true }));
  });

  it('keeps the old version when the new routes are taken', async () => {
    const { repo, handler, triggers } = setup();
    const v1 = await repo.create(webhookDefinition({ path: 'a' }));
    await repo.setActive(v1.id, true);
    triggers.assertCanActivate.mockImplementation(() => {
      throw new EngineError('CONFLICT', 'taken');
    });
    await expect(handler.execute(new UpdateWorkflowCommand(v1.id, { ...webhookDefinition({ path: 'b' }), version: 1 }))).rejects.toMatchObject({ code: 'CONFLICT' });
    expect((await repo.get(v1.id))?.version).toBe(1);
  });

  it('validates before anything is stored', async () => {
    const { repo, handler } = setup(validator([{ code: 'NO_START_NODE', message: 'no trigger', path: '$.nodes' }]));
    const v1 = await repo.create(webhookDefinition({ path: 'a' }));
    await expect(handler.execute(new UpdateWorkflowCommand(v1.id, { name: 'x', nodes: [], edges: [], version: 1 }))).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    expect((await repo.get(v1.id))?.version).toBe(1);
  });
});
