import { describe, expect, it, jest } from '@jest/globals';
import type { StartExecutionRequest } from '@anchorflow/engine';
import { executionView, storedWorkflow } from '../../../testing/fakes.js';
import { MemoryWorkflowRepository } from '../../../testing/memory-workflow-repository.js';
import { StartExecutionCommand } from './start-execution.command.js';
import { StartExecutionHandler } from './start-execution.handler.js';

function setup(finished = executionView()) {
  const engine = {
    start: jest.fn(async (_req: StartExecutionRequest) => ({ executionId: finished.id, duplicate: false })),
    whenFinished: jest.fn(async (_id: string, _ms: number): Promise<typeof finished | undefined> => finished),
    view: jest.fn((_id: string) => ({ ...finished, status: 'running' as const })),
    graph: jest.fn(async (): Promise<never> => {
      throw new Error('not needed');
    }),
  };
  const repo = new MemoryWorkflowRepository();
  const handler = new StartExecutionHandler(engine, repo, { http: { maxWaitMs: 1000 } as never });
  return { engine, repo, handler };
}

describe('StartExecutionHandler', () => {
  it('starts the latest version with its definition and answers with the id', async () => {
    const { engine, repo, handler } = setup();
    const wf = await repo.create(storedWorkflow().definition);
    await repo.update(wf.id, 1, { ...wf.definition, name: 'v2' });
    const result = await handler.execute(new StartExecutionCommand(wf.id, { n: 1 }));
    expect(result).toEqual({ finished: false, executionId: executionView().id, status: 'running' });
    expect(engine.start).toHaveBeenCalledWith({ workflowId: wf.id, version: 2, definition: expect.objectContaining({ name: 'v2' }), input: { n: 1 } });
    expect(engine.whenFinished).not.toHaveBeenCalled();
  });

  it('defaults the input to {} and passes the trigger node on', async () => {
    const { engine, repo, handler } = setup();
    const wf = await repo.create(storedWorkflow().definition);
    await handler.execute(new StartExecutionCommand(wf.id, undefined, 'start'));
    expect(engine.start.mock.calls[0]![0]).toMatchObject({ input: {}, triggerNodeId: 'start' });
  });

  it('with wait: the finished execution (ISO times); the wait is capped', async () => {
    const { engine, repo, handler } = setup();
    const wf = await repo.create(storedWorkflow().definition);
    const result = await handler.execute(new StartExecutionCommand(wf.id, {}, undefined, 60_000));
    expect(engine.whenFinished).toHaveBeenCalledWith(executionView().id, 1000);
    expect(result).toMatchObject({ finished: true, execution: { status: 'succeeded', startedAt: '2026-01-01T00:00:00.000Z', finishedAt: '2026-01-01T00:00:01.500Z' } });
  });

  it('with wait but not finished in time: the id and the current status', async () => {
    const { engine, repo, handler } = setup();
    engine.whenFinished.mockResolvedValue(undefined);
    const wf = await repo.create(storedWorkflow().definition);
    expect(await handler.execute(new StartExecutionCommand(wf.id, {}, undefined, 10))).toEqual({ finished: false, executionId: executionView().id, status: 'running' });
  });

  it('404 for an unknown workflow, 400 for an unknown trigger node; nothing started', async () => {
    const { engine, repo, handler } = setup();
    await expect(handler.execute(new StartExecutionCommand('6f1d1c1e-58f5-4a36-a3b0-0c2e5bb0f009', {}))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const wf = await repo.create(storedWorkflow().definition);
    await expect(handler.execute(new StartExecutionCommand(wf.id, {}, 'ghost'))).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect(engine.start).not.toHaveBeenCalled();
  });

  it('engine errors (e.g. INVALID_INPUT) reach the caller as they are', async () => {
    const { engine, repo, handler } = setup();
    const wf = await repo.create(storedWorkflow().definition);
    const err = Object.assign(new Error('bad input'), { code: 'INVALID_INPUT' });
    engine.start.mockRejectedValue(err);
    await expect(handler.execute(new StartExecutionCommand(wf.id, {}))).rejects.toBe(err);
  });
});
