import { describe, expect, it } from '@jest/globals';
import { executionView } from '../../../testing/fakes.js';
import { GetExecutionQuery } from './get-execution.query.js';
import { GetExecutionHandler } from './get-execution.handler.js';

const noGraph = async (): Promise<never> => {
  throw new Error('version gone');
};

describe('GetExecutionHandler', () => {
  const stored = executionView({ status: 'running', finishedAt: undefined });
  const live = executionView({ status: 'succeeded' });

  it('prefers what the engine describes (live, or folded from events) over the stored summary', async () => {
    const handler = new GetExecutionHandler({ describe: async () => live, graph: noGraph }, { get: async () => stored });
    expect((await handler.execute(new GetExecutionQuery(live.id))).status).toBe('succeeded');
  });

  it('falls back to the store and maps to the API shape with ISO times', async () => {
    const handler = new GetExecutionHandler({ describe: async () => undefined, graph: noGraph }, { get: async () => stored });
    const dto = await handler.execute(new GetExecutionQuery(stored.id));
    expect(dto).toEqual({
      id: stored.id,
      workflowId: stored.workflowId,
      version: 1,
      status: 'running',
      input: { n: 1 },
      output: { last: { ok: true } },
      startedAt: '2026-01-01T00:00:00.000Z',
      nodeRuns: [
        { nodeId: 'start', status: 'succeeded', attempt: 1, output: { main: { n: 1 } }, startedAt: '2026-01-01T00:00:00.100Z', finishedAt: '2026-01-01T00:00:00.200Z' },
        { nodeId: 'last', status: 'succeeded', attempt: 2, input: { n: 1 }, output: { main: { ok: true } }, startedAt: '2026-01-01T00:00:01.000Z', finishedAt: '2026-01-01T00:00:01.400Z' },
      ],
    });
  });

  it('404 when neither knows it', async () => {
    const handler = new GetExecutionHandler({ describe: async () => undefined, graph: noGraph }, { get: async () => undefined });
    await expect(handler.execute(new GetExecutionQuery('nope'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
