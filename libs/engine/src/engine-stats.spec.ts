import { describe, expect, it } from '@jest/globals';
import { harness } from './spec-support/harness.js';

describe('Engine: stats and scheduler lag (metrics)', () => {
  it('counts a node waiting for a concurrency slot in the ready queue, and reports how long it waited when it starts', async () => {
    const lags: Array<{ kind: string; ms: number }> = [];
    const h = harness({ options: { maxConcurrentNodes: 1 }, observer: { schedulingLag: (kind, ms) => void lags.push({ kind, ms }) } });
    h.workflows.put('w', 1, {
      name: 'fan-out',
      nodes: [{ id: 't', type: 'test.trigger', params: {} }, { id: 'a', type: 'test.delay', params: { ms: 150 } }, { id: 'b', type: 'test.delay', params: { ms: 150 } }],
      edges: [{ from: 't', to: 'a' }, { from: 't', to: 'b' }],
    });
    const { executionId } = await h.engine.start({ workflowId: 'w', version: 1 });
    // one delay runs, the other waits for the single slot
    const deadline = Date.now() + 2000;
    while (h.engine.stats().readyNodes < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    const during = h.engine.stats();
    expect({ running: during.runningNodes, ready: during.readyNodes, live: during.liveExecutions }).toEqual({ running: 1, ready: 1, live: 1 });
    expect(during.oldestReadyMs).toBeGreaterThanOrEqual(0);

    expect((await h.engine.whenFinished(executionId, 5000))?.status).toBe('succeeded');
    expect(h.engine.stats()).toEqual({ liveExecutions: 0, runningNodes: 0, readyNodes: 0, oldestReadyMs: 0 });
    const ready = lags.filter((l) => l.kind === 'ready');
    expect(ready).toHaveLength(1);
    // it waited for the first delay (150 ms) to finish
    expect(ready[0]!.ms).toBeGreaterThanOrEqual(100);
  });
});
