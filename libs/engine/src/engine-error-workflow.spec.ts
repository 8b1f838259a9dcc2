import { describe, expect, it } from '@jest/globals';
import { harness, type Harness } from './spec-support/harness.js';
import { MemoryExecutionStore } from './testing/memory-execution-store.js';
import type { ExecutionEvent } from './events/execution-events.js';
import type { ExecutionView } from './execution/execution.types.js';
import type { WorkflowDefinition } from './workflow/workflow.types.js';

/**
 * settings.errorWorkflowId across crashes and store outages: the error workflow's start is durable
 * before the failure's end, so neither a SIGKILL nor a store error loses it, and the dedupe key
 * `error:<executionId>` keeps it to exactly one.
 */

const failing = (errorWorkflowId: string): WorkflowDefinition => ({
  name: 'failing',
  nodes: [{ id: 't', type: 'test.trigger' }, { id: 'boom', type: 'test.flaky', params: { failTimes: 99, mode: 'fatal' } }, { id: 'after', type: 'test.set' }],
  edges: [{ from: 't', to: 'boom' }, { from: 'boom', to: 'after' }],
  settings: { errorWorkflowId },
});
const onError: WorkflowDefinition = {
  name: 'on-error',
  nodes: [{ id: 't', type: 'test.trigger' }, { id: 'note', type: 'test.set', params: { fields: { noted: true } } }],
  edges: [{ from: 't', to: 'note' }],
};

const never = new Promise<never>(() => undefined);

/**
 * What one engine process sees of the store. After `crash()` it is a killed process: nothing it appends
 * reaches the store any more and it waits forever for commits; what was committed before stays.
 */
function processView(store: MemoryExecutionStore) {
  let crashed = false;
  let afterDurable: (() => boolean) | undefined;
  const view = new Proxy(store, {
    get(target, key) {
      if (key === 'append') return (events: readonly ExecutionEvent[], v: () => ExecutionView) => (crashed ? undefined : target.append(events, v));
      if (key === 'durable') {
        return async () => {
          if (crashed) return never;
          await target.durable();
          if (afterDurable?.()) crashed = true;
          if (crashed) return never;
        };
      }
      const value = Reflect.get(target, key, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { store: view, crash: () => void (crashed = true), crashAfterCommitWhere: (probe: () => boolean) => void (afterDurable = probe) };
}

const errorRuns = (store: MemoryExecutionStore, executionId: string) => [...store.views.values()].filter((v) => v.dedupeKey === `error:${executionId}`);

/** the first engine process: runs the failing workflow until `crashWhen` kills it */
async function firstProcess(store: MemoryExecutionStore, calls: Map<string, number>, setup: (h: Harness, p: ReturnType<typeof processView>) => void) {
  const p = processView(store);
  const h = harness({ store: p.store, calls });
  h.workflows.put('on-error', 1, onError);
  h.workflows.put('failing', 1, failing('on-error'));
  setup(h, p);
  const { executionId } = await h.engine.start({ workflowId: 'failing', version: 1, input: { order: 7 } });
  return executionId;
}

/** a new engine process on the same database: recovers, then returns the failed view and the error runs */
async function restart(store: MemoryExecutionStore, calls: Map<string, number>, executionId: string) {
  const h = harness({ store, calls });
  h.workflows.put('on-error', 1, onError);
  h.workflows.put('failing', 1, failing('on-error'));
  await h.engine.recover();
  const failed = await h.engine.whenFinished(executionId, 5000);
  const runs = errorRuns(store, executionId);
  const errorRun = runs.length === 1 ? await h.engine.whenFinished(runs[0]!.id, 5000) : undefined;
  await h.engine.stop();
  return { failed, runs, errorRun };
}

async function eventually<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

describe('Engine: error workflows survive crashes and store outages', () => {
  it('a crash after the failure is durable and before the error workflow starts: recovery starts it, once', async () => {
    const store = new MemoryExecutionStore();
    const calls = new Map<string, number>();
    let reached: (() => void) | undefined;
    const atStart = new Promise<void>((r) => (reached = r));
    const executionId = await firstProcess(store, calls, (h, p) => {
      const latest = h.workflows.latestVersion.bind(h.workflows);
      h.workflows.latestVersion = async (id) => {
        if (id !== 'on-error') return latest(id);
        // the engine is about to start the error workflow: let what it committed so far land, then SIGKILL
        await store.durable();
        p.crash();
        reached!();
        return never;
      };
    });
    await atStart;
    expect((await store.events(executionId)).some((e) => e.type === 'node.failed' && e.nodeId === 'boom')).toBe(true);
    expect(errorRuns(store, executionId)).toHaveLength(0);

    const { failed, runs, errorRun } = await restart(store, calls, executionId);
    expect(runs).toHaveLength(1);
    expect(errorRun).toMatchObject({ status: 'succeeded', input: { executionId, workflowId: 'failing', failedNode: 'boom', input: { order: 7 } }, parent: { executionId, reason: 'error' } });
    expect(failed).toMatchObject({ status: 'failed', error: { nodeId: 'boom', code: 'FATAL' } });
    expect(failed!.nodeRuns.find((n) => n.nodeId === 'after')?.status).toBe('skipped');
    // the failed node ran once, before the crash; recovery did not run it again
    expect(calls.get('boom')).toBe(1);
  });

  it('a crash after the error workflow\'s start is durable and before the failure\'s end: still exactly one', async () => {
    const store = new MemoryExecutionStore();
    const calls = new Map<string, number>();
    let executionId = '';
    await firstProcess(store, calls, (_h, p) => p.crashAfterCommitWhere(() => executionId !== '' && errorRuns(store, executionId).length > 0)).then((id) => (executionId = id));
    await eventually('the error workflow started', () => (errorRuns(store, executionId).length ? true : undefined));

    const { failed, runs, errorRun } = await restart(store, calls, executionId);
    expect(runs).toHaveLength(1);
    expect(errorRun?.status).toBe('succeeded');
    expect(failed).toMatchObject({ status: 'failed', error: { nodeId: 'boom' } });
    expect(calls.get('boom')).toBe(1);
    expect(calls.get('note')).toBe(1);
  });

  it('a store outage while starting the error workflow is waited out, not dropped: exactly one', async () => {
    class FlakyStore extends MemoryExecutionStore {
      lookups = 0;
      startCommitFailed = false;
      override async findByDedupeKey(workflowId: string, dedupeKey: string): Promise<string | undefined> {
        if (dedupeKey.startsWith('error:') && ++this.lookups === 1) throw new Error('connection refused');
        return super.findByDedupeKey(workflowId, dedupeKey);
      }
      override append(events: readonly ExecutionEvent[], view: () => ExecutionView): void {
        // the commit holding the error workflow's start fails once too
        if (!this.startCommitFailed && events.some((e) => e.type === 'execution.started' && e.dedupeKey?.startsWith('error:'))) {
          this.startCommitFailed = true;
          this.failNextCommits = 1;
        }
        super.append(events, view);
      }
    }
    const store = new FlakyStore();
    const h = harness({ store });
    h.workflows.put('on-error', 1, onError);
    h.workflows.put('failing', 1, failing('on-error'));
    const { executionId } = await h.engine.start({ workflowId: 'failing', version: 1 });
    const failed = await h.engine.whenFinished(executionId, 5000);
    expect(failed?.status).toBe('failed');
    expect(store.startCommitFailed).toBe(true);
    const runs = errorRuns(store, executionId);
    expect(runs).toHaveLength(1);
    expect((await h.engine.whenFinished(runs[0]!.id, 5000))?.status).toBe('succeeded');
    expect(h.calls.get('note')).toBe(1);
    await h.engine.stop();
  });

  it('an error workflow that no longer exists does not hold the failure open: the failure says so', async () => {
    const h = harness();
    h.workflows.put('failing', 1, failing('deleted-wf'));
    const { executionId } = await h.engine.start({ workflowId: 'failing', version: 1 });
    const failed = await h.engine.whenFinished(executionId, 5000);
    expect(failed).toMatchObject({ status: 'failed', error: { code: 'FATAL', nodeId: 'boom', message: expect.stringContaining('error workflow deleted-wf not started') } });
    expect([...h.store.views.values()].filter((v) => v.dedupeKey !== undefined)).toHaveLength(0);
    await h.engine.stop();
  });

  it('an error workflow\'s own failure starts no error workflow', async () => {
    const h = harness();
    h.workflows.put('loop', 1, failing('loop'));
    const { executionId } = await h.engine.start({ workflowId: 'loop', version: 1 });
    expect((await h.engine.whenFinished(executionId, 5000))?.status).toBe('failed');
    const [first] = errorRuns(h.store, executionId);
    expect(first).toBeDefined();
    expect((await h.engine.whenFinished(first!.id, 5000))?.status).toBe('failed');
    expect(errorRuns(h.store, first!.id)).toHaveLength(0);
    await h.engine.stop();
  });
});
