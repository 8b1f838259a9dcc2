import { describe, expect, it, jest } from '@jest/globals';
import type { ExecutionSummary, Page } from '@anchorflow/engine';
import { executionView } from '../../../testing/fakes.js';
import { ListExecutionsQuery } from './list-executions.query.js';
import { ListExecutionsHandler } from './list-executions.handler.js';

describe('ListExecutionsHandler', () => {
  it('passes the filter to the reader and maps summaries', async () => {
    const { nodeRuns: _n, input: _i, output: _o, ...summary } = executionView({ status: 'failed', error: { message: 'boom', code: 'X', retryable: false, nodeId: 'last' } });
    const list = jest.fn(async (_q: unknown): Promise<Page<ExecutionSummary>> => ({ items: [summary], nextCursor: 'c2' }));
    const handler = new ListExecutionsHandler({ list });
    const page = await handler.execute(new ListExecutionsQuery({ workflowId: summary.workflowId, status: 'failed', limit: 10, cursor: 'c1' }));
    expect(list).toHaveBeenCalledWith({ workflowId: summary.workflowId, status: 'failed', limit: 10, cursor: 'c1' });
    expect(page).toEqual({
      items: [{ id: summary.id, workflowId: summary.workflowId, version: 1, status: 'failed', error: summary.error, startedAt: '2026-01-01T00:00:00.000Z', finishedAt: '2026-01-01T00:00:01.500Z' }],
      nextCursor: 'c2',
    });
  });
});
