import { describe, expect, it } from '@jest/globals';
import { eventually } from './spec-support/eventually.js';
import { harness, ManualClock } from './spec-support/harness.js';
import { MemoryExecutionStore } from './testing/memory-execution-store.js';
import type { WorkflowDefinition } from './workflow/workflow.types.js';

const def = (nodes: Array<[string, string, Record<string, unknown>?]>): WorkflowDefinition => ({
  name: 'd',
  nodes: nodes.map(([id, type, params]) => ({ id, type, params: params ?? {} })),
  edges: nodes.slice(1).map(([id], i) => ({ from: nodes[i][0], to: id })),
});

/** lets every queued callback, promise and immediate run a few rounds (what the engine would do next) */
async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
}

describe('Engine: durability', () => {
  it('records every state change as a sequence-numbered event, and the stored projection is the fold of them', async () => {
    const h = harness();
    const v = await h.run(def([['t', 'test.trigger'], ['f', 'test.flaky', { failTimes: 0 }], ['s', 'test.set', { fields: { s: 1 } }]]));
    const events = await h.store.events(v.id);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events.map((e) => e.type)).toEqual(['execution.started', 'node.succeeded', 'node.started', 'node.succeeded', 'node.succeeded', 'execution.finished']);
    expect(await h.store.get(v.id)).toEqual(JSON.parse(JSON.stringify(v)));
  });

  it('a node with side effects starts only after the history is durable', async () => {
    const h = harness();
    let releaseCommit!: () => void;
    h.workflows.put('w', 1, def([['t', 'test.trigger'], ['f', 'test.flaky', { failTimes: 0 }]]));
    const { executionId } = await h.engine.start({ workflowId: 'w', version: 1 });
    h.store.hold = new Promise<void>((r) => (releaseCommit = r));
    // f is running in memory (its node.started is appended) while the commit that holds it is blocked
    await eventually('f running', () => h.engine.view(executionId)?.nodeRuns[1].status === 'running');
    await settle();
    expect({ calls: h.calls.get('f'), durableStarted: h.store.eventsById.get(executionId)?.some((e) => e.type === 'node.started') ?? false })
      .toEqual({ calls: undefined, durableStarted: false });
    h.store.hold = undefined;
    releaseCommit();
    const v = (await h.engine.whenFinished(executionId, 5000))!;
    expect(v.status).toBe('succeeded');
    expect(h.calls.get('f')).toBe(1);
  });

  it('a failed commit delays side effects instead of failing them', async () => {
    const h = harness();
    h.store.failNextCommits = 2;
    const v = await h.run(def([['t', 'test.trigger'], ['f', 'test.flaky', { failTimes: 0 }]])).catch((e) => e);
    // the start itself reports the failed commit to the caller ...
    expect(v).toMatchObject({ code: 'STORE_FAILED' });
    // ... and a later execution waits out the outage before its side effect
    h.store.failNextCommits = 1;
    h.workflows.put('w2', 1, def([['t', 'test.trigger'], ['f2', 'test.flaky', { failTimes: 0 }]]));
    const { executionId } = await h.engine.start({ workflowId: 'w2', version: 1, awaitDurable: false });
    const done = await h.engine.whenFinished(executionId, 5000);
    expect(done!.status).toBe('succeeded');
    expect(h.calls.get('f2')).toBe(1);
  });

  it('after a crash a new engine resumes from the events: finished nodes never run again, the in-flight node runs with the same key', async () => {
    const store = new MemoryExecutionStore();
    const calls = new Map<string, number>();
    const first = harness({ store, calls });
    const wf = def([['t', 'test.trigger'], ['a', 'test.flaky', { failTimes: 0 }], ['slow', 'test.hang'], ['b', 'test.set', { fields: { b: 1 } }]]);
    first.workflows.put('w', 1, wf);
    const { executionId } = await first.engine.start({ workflowId: 'w', version: 1, input: { n: 1 } });
    // wait until the hanging node has durably started, then "crash" (the first engine is simply dropped)
    await eventually('the hanging node durably started', async () => (await store.events(executionId)).filter((e) => e.type === 'node.started').length >= 2);
    expect(calls.get('a')).toBe(1);
    expect(calls.get('slow')).toBe(1);

    const calls2 = new Map<string, number>();
    const second = harness({ store, calls: calls2 });
    second.workflows.put('w', 1, wf);
    // the "slow" node now completes: swap it for a fast one by type (same graph, new process)
    (second.engine.deps.transport as { run: unknown }).run = async (job: { nodeType: string; input: unknown; idempotencyKey: string; attempt: number; nodeId: string }) => {
      calls2.set(job.nodeId, (calls2.get(job.nodeId) ?? 0) + 1);
      if (job.nodeId === 'slow') return { kind: 'output', outputs: { main: { resumedWith: job.idempotencyKey, attempt: job.attempt } } };
      return { kind: 'output', outputs: { main: { ...(job.input as object), b: 1 } } };
    };
    expect(await second.engine.recover()).toBe(1);
    const v = (await second.engine.whenFinished(executionId, 5000))!;
    expect(v.status).toBe('succeeded');
    expect(calls2.get('a')).toBeUndefined();
    expect(calls2.get('t')).toBeUndefined();
    expect(calls2.get('slow')).toBe(1);
    expect(v.output).toEqual({ b: { resumedWith: `${executionId}:slow`, attempt: 1, b: 1 } });
  });

  it('a durable timer survives a restart and fires once; a waiting execution is not held in memory', async () => {
    // every time source on the timer path is this clock (test.wait asks ctx.now()), so the test owns time
    const clock = new ManualClock();
    const store = new MemoryExecutionStore();
    const calls = new Map<string, number>();
    const first = harness({ store, calls, clock, options: { wakeUpHorizonMs: 1000 } });
    const wf = def([['t', 'test.trigger'], ['w', 'test.wait', { ms: 3_600_000 }], ['after', 'test.set', { fields: { done: true } }]]);
    first.workflows.put('w', 1, wf);
    const { executionId } = await first.engine.start({ workflowId: 'w', version: 1 });
    await clock.advance(0);
    await store.durable();
    expect((await store.get(executionId))!.status).toBe('waiting');
    expect(first.engine.liveExecutions).toBe(0); // evicted: the wake-up is an hour away
    await first.engine.stop();

    const second = harness({ store, calls, clock, options: { wakeUpHorizonMs: 1000 } });
    second.workflows.put('w', 1, wf);
    await second.engine.recover();
    second.engine.startPolling(60_000);
    // 1 ms before it is due nothing has fired; the poller's next tick (every 60 s) finds it due
    await clock.advance(3_600_000 - 1);
    await store.durable();
    expect(calls.get('after')).toBeUndefined();
    await clock.advance(61_000);
    await store.durable();
    const v = (await store.get(executionId))!;
    expect(v.status).toBe('succeeded');
    expect(v.output).toEqual({ after: { input: {}, resumed: 'timer', data: null, done: true } });
    expect(calls.get('after')).toBe(1);
    // the wait node keeps when it started; when it woke up is its own field
    const w = v.nodeRuns.find((r) => r.nodeId === 'w')!;
    expect(w.startedAt).toBe(v.startedAt);
    expect(w.resumedAt).toBeGreaterThanOrEqual(v.startedAt + 3_600_000);
    await second.engine.stop();
  });

  it('a node waiting on a resume token continues when signalled, with the data', async () => {
    const h = harness();
    h.workflows.put('w', 1, def([['t', 'test.trigger'], ['w', 'test.wait', { token: 'approve-123' }]]));
    const { executionId } = await h.engine.start({ workflowId: 'w', version: 1 });
    await eventually('the execution waiting', async () => h.engine.view(executionId)?.status === 'waiting' || (await h.store.get(executionId))?.status === 'waiting');
    await expect(h.engine.signal('wrong')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await h.engine.signal('approve-123', { approved: true })).toEqual({ executionId, nodeId: 'w' });
    const v = (await h.engine.whenFinished(executionId, 5000))!;
    expect(v.output).toEqual({ w: { input: {}, resumed: 'signal', data: { approved: true } } });
  });

  it('the same dedupe key never starts two executions', async () => {
    const h = harness();
    h.workflows.put('w', 1, def([['t', 'test.trigger']]));
    const a = await h.engine.start({ workflowId: 'w', version: 1, dedupeKey: 'tx-1' });
    const b = await h.engine.start({ workflowId: 'w', version: 1, dedupeKey: 'tx-1' });
    expect(b).toEqual({ executionId: a.executionId, duplicate: true });
    await h.engine.whenFinished(a.executionId, 5000);
    const c = await h.engine.start({ workflowId: 'w', version: 1, dedupeKey: 'tx-1' });
    expect(c).toEqual({ executionId: a.executionId, duplicate: true });
  });
});

describe('per-execution output quota across a restart (issue 17)', () => {
  it('a recovered execution counts the output it stored before the restart', async () => {
    const store = new MemoryExecutionStore();
    const options = { maxExecutionOutputBytes: 1200 };
    const wf = def([['t', 'test.trigger'], ['a', 'test.set', { fields: { a: 'x'.repeat(400) } }], ['w', 'test.wait', { token: 'quota-restart' }], ['b', 'test.set', { fields: { b: 1 } }]]);
    const first = harness({ store, options });
    first.workflows.put('w', 1, wf);
    const { executionId } = await first.engine.start({ workflowId: 'w', version: 1 });
    await eventually('the execution waiting', async () => (await store.get(executionId))?.status === 'waiting');

    // a new process: a's ~430 bytes are only in the stored events
    const second = harness({ store, options });
    second.workflows.put('w', 1, wf);
    await second.engine.recover();
    await second.engine.signal('quota-restart');
    const v = (await second.engine.whenFinished(executionId, 5000))!;
    // w and b alone (~950 bytes) fit; with a's output they do not
    expect(second.node(v, 'b')).toMatchObject({ status: 'failed', error: { code: 'EXECUTION_OUTPUT_QUOTA', details: { limit: 1200 } } });
    const { executionBytes } = second.node(v, 'b').error!.details as { executionBytes: number };
    // t, a (stored before the restart) and w
    expect(executionBytes).toBeGreaterThan(850);
  });
});
