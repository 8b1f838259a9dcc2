import { describe, expect, it } from '@jest/globals';
import type { ExecutionLeases } from './ports/execution-leases.port.js';
import { eventually } from './spec-support/eventually.js';
import { harness } from './spec-support/harness.js';
import { MemoryExecutionStore } from './testing/memory-execution-store.js';
import { ManualClock } from './testing/manual-clock.js';
import type { WorkflowDefinition } from './workflow/workflow.types.js';

/** A memory store that is its own ExecutionLeases, whose answers the test controls. */
class LeasedStore extends MemoryExecutionStore implements ExecutionLeases {
  lost = new Set<string>();
  cancels: Array<{ executionId: string; reason: string }> = [];
  released: string[] = [];
  claimable: string[] = [];
  heldElsewhere = new Set<string>();
  async claimUnfinished(): Promise<string[]> {
    return this.claimable.splice(0);
  }
  async claim(id: string): Promise<boolean> {
    return !this.heldElsewhere.has(id);
  }
  async renew(ids: string[]) {
    return { lost: ids.filter((id) => this.lost.has(id)), cancelRequested: this.cancels.splice(0).filter((c) => ids.includes(c.executionId)) };
  }
  async release(ids: string[]): Promise<void> {
    this.released.push(...ids);
  }
  requested: Array<{ id: string; reason: string }> = [];
  async requestCancel(id: string, reason: string): Promise<boolean> {
    this.requested.push({ id, reason });
    return true;
  }
}

const slow: WorkflowDefinition = {
  name: 'slow',
  nodes: [{ id: 't', type: 'test.trigger' }, { id: 'h', type: 'test.hang' }, { id: 'after', type: 'test.set' }],
  edges: [{ from: 't', to: 'h' }, { from: 'h', to: 'after' }],
};

describe('Engine: leases (several daemons on one database)', () => {
  it('stops working on an execution whose lease was lost, without recording anything more', async () => {
    const clock = new ManualClock();
    const store = new LeasedStore();
    const h = harness({ store, leases: store, clock, options: { leaseRenewMs: 1000 } });
    h.workflows.put('w', 1, slow);
    const { executionId } = await h.engine.start({ workflowId: 'w', version: 1 });
    h.engine.startPolling(60_000);
    await clock.advance(0);
    const before = (await store.events(executionId)).length;
    store.lost.add(executionId);
    await clock.advance(1000);
    await store.durable();
    expect(h.engine.view(executionId)).toBeUndefined();
    expect((await store.events(executionId)).length).toBe(before);
    await h.engine.stop();
  });

  it('cancels when another daemon asked for it', async () => {
    const clock = new ManualClock();
    const store = new LeasedStore();
    const h = harness({ store, leases: store, clock, options: { leaseRenewMs: 1000 } });
    h.workflows.put('w', 1, slow);
    const { executionId } = await h.engine.start({ workflowId: 'w', version: 1 });
    h.engine.startPolling(60_000);
    store.cancels.push({ executionId, reason: 'asked elsewhere' });
    await clock.advance(1000);
    await store.durable();
    expect((await store.get(executionId))!.status).toBe('cancelled');
    await h.engine.stop();
  });

  it('a cancel for an execution held by another daemon is handed to it; signals are refused with CONFLICT', async () => {
    const store = new LeasedStore();
    const h = harness({ store, leases: store });
    h.workflows.put('w', 1, slow);
    const { executionId } = await h.engine.start({ workflowId: 'w', version: 1 });
    await h.engine.stop(); // as if another daemon held it now
    const other = harness({ store, leases: store });
    store.heldElsewhere.add(executionId);
    await other.engine.cancel(executionId, 'please');
    expect(store.requested).toEqual([{ id: executionId, reason: 'please' }]);
  });

  it('a signal for an execution another daemon is just letting go waits for it; one it keeps is refused with CONFLICT', async () => {
    const parked: WorkflowDefinition = {
      name: 'parked',
      nodes: [{ id: 't', type: 'test.trigger' }, { id: 'w', type: 'test.wait', params: { token: 'tok-release' } }, { id: 'after', type: 'test.set', params: { fields: { done: true } } }],
      edges: [{ from: 't', to: 'w' }, { from: 'w', to: 'after' }],
    };
    const store = new LeasedStore();
    const first = harness({ store, leases: store });
    first.workflows.put('p', 1, parked);
    const { executionId } = await first.engine.start({ workflowId: 'p', version: 1 });
    await eventually('parked on its token', async () => (await store.get(executionId))?.status === 'waiting');
    await first.engine.stop();

    // the holder releases it after two refused claims
    const other = harness({ store, leases: store });
    other.workflows.put('p', 1, parked);
    let refusals = 2;
    store.claim = async () => refusals-- <= 0;
    expect(await other.engine.signal('tok-release', { ok: 1 })).toEqual({ executionId, nodeId: 'w' });
    expect(refusals).toBeLessThan(0);
    expect((await other.engine.whenFinished(executionId, 5_000))!.status).toBe('succeeded');
    await other.engine.stop();

    // kept: refused, retryable
    const parkedToo = { ...parked, nodes: parked.nodes.map((n) => (n.id === 'w' ? { ...n, params: { token: 'tok-kept' } } : n)) };
    const s2 = new LeasedStore();
    const starter = harness({ store: s2, leases: s2 });
    starter.workflows.put('p', 1, parkedToo);
    const kept = await starter.engine.start({ workflowId: 'p', version: 1 });
    await eventually('parked on its token', async () => (await s2.get(kept.executionId))?.status === 'waiting');
    await starter.engine.stop();
    const refused = harness({ store: s2, leases: s2 });
    refused.workflows.put('p', 1, parkedToo);
    s2.claim = async () => false;
    await expect(refused.engine.signal('tok-kept')).rejects.toMatchObject({ code: 'CONFLICT', retryable: true });
    await refused.engine.stop();
  });

  it('recovers what it can claim and releases its executions on shutdown', async () => {
    const store = new LeasedStore();
    const first = harness({ store, leases: store });
    first.workflows.put('w', 1, slow);
    const { executionId } = await first.engine.start({ workflowId: 'w', version: 1 });
    await first.engine.stop();
    expect(store.released).toEqual([executionId]);
    const second = harness({ store, leases: store });
    second.workflows.put('w', 1, slow);
    store.claimable = [executionId];
    expect(await second.engine.recover()).toBe(1);
    expect(second.engine.view(executionId)!.nodeRuns[1].status).toBe('running');
    await second.engine.stop();
  });
});
