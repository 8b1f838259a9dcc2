import { describe, expect, it } from '@jest/globals';
import { ExecutionStartedEvent, NodeFailedEvent, type ExecutionEvent } from '@anchorflow/engine';
import { executionView } from '../../../testing/fakes.js';
import { ListExecutionEventsQuery } from './list-execution-events.query.js';
import { ListExecutionEventsHandler } from './list-execution-events.handler.js';

const t0 = Date.parse('2026-01-01T00:00:00.000Z');
const history: ExecutionEvent[] = [
  new ExecutionStartedEvent('e1', 1, t0, 'w1', 1, { n: 1 }, 'start'),
  new NodeFailedEvent('e1', 2, t0 + 10, 'http', 1, { message: '503', code: 'HTTP_5XX', retryable: true }, t0 + 5, t0 + 1000),
];

function reader(events = history, exists = true) {
  return {
    events: async (_id: string, o: { afterSeq?: number; limit?: number } = {}) => events.filter((e) => e.seq > (o.afterSeq ?? 0)).slice(0, o.limit),
    get: async () => (exists ? executionView() : undefined),
  };
}

describe('ListExecutionEventsHandler', () => {
  it('returns the history in seq order with ISO times and a cursor when the page is full', async () => {
    const handler = new ListExecutionEventsHandler({ view: () => undefined }, reader());
    const page = await handler.execute(new ListExecutionEventsQuery('e1', undefined, 2));
    expect(page.items.map((e) => e.type)).toEqual(['execution.started', 'node.failed']);
    expect(page.items[1]).toMatchObject({ at: '2026-01-01T00:00:00.010Z', startedAt: '2026-01-01T00:00:00.005Z', retryAt: '2026-01-01T00:00:01.000Z', attempt: 1 });
    expect(page.nextAfterSeq).toBe(2);
    const rest = await handler.execute(new ListExecutionEventsQuery('e1', 1, 10));
    expect(rest.items.map((e) => e.seq)).toEqual([2]);
    expect(rest.nextAfterSeq).toBeUndefined();
  });

  it('404 for an unknown execution, an empty page past the end of a known one', async () => {
    await expect(new ListExecutionEventsHandler({ view: () => undefined }, reader([], false)).execute(new ListExecutionEventsQuery('nope', undefined, 10))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect((await new ListExecutionEventsHandler({ view: () => undefined }, reader()).execute(new ListExecutionEventsQuery('e1', 99, 10))).items).toEqual([]);
  });
});
