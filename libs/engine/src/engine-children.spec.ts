import { describe, expect, it } from '@jest/globals';
import { IsString } from 'class-validator';
import { defineNode, TransientNodeError } from '@anchorflow/plugin-sdk';
import { harness, type Harness } from './spec-support/harness.js';
import type { WorkflowDefinition } from './workflow/workflow.types.js';

class ChildParams {
  @IsString() workflowId!: string;
}

/**
 * A parent node like core.subworkflow, with hooks to force the orderings that matter: `beforeSuspend`
 * runs after the child is started and before the node suspends on the child's token.
 */
function withParentNode(h: Harness, hooks: { beforeSuspend?: (childId: string) => Promise<void>; failFirstAttempt?: boolean } = {}) {
  const started: string[] = [];
  h.engine.catalog.register(
    defineNode<ChildParams>({
      type: 'test.parent', version: 1, title: 'parent', category: 'flow', inputs: ['main'], outputs: ['main'], params: ChildParams,
      retry: { maxAttempts: 2, backoffMs: 1 },
      async execute(ctx, input) {
        const child = await ctx.executions!.start({ workflowId: ctx.params.workflowId, input, wait: true });
        started.push(child.executionId);
        if (hooks.failFirstAttempt && ctx.attempt === 1) throw new TransientNodeError('lost the answer', 'FLAKY');
        if (child.status === 'succeeded') return { main: child.output };
        if (child.status === 'failed' || child.status === 'cancelled') throw new Error(`child ${child.status}`);
        if (!ctx.resume) await hooks.beforeSuspend?.(child.executionId);
        // a poll far away: only the engine's wake-up can end this wait within the test
        return ctx.suspend({ token: child.resumeToken, until: ctx.now() + 3_600_000 });
      },
    }),
    'test',
  );
  return started;
}

const childFlow: WorkflowDefinition = {
  name: 'child',
  nodes: [{ id: 't', type: 'test.trigger' }, { id: 'set', type: 'test.set', params: { fields: { child: true } } }],
  edges: [{ from: 't', to: 'set' }],
};
const parentFlow = (workflowId: string): WorkflowDefinition => ({
  name: 'parent',
  nodes: [{ id: 't', type: 'test.trigger' }, { id: 'sub', type: 'test.parent', params: { workflowId } }],
  edges: [{ from: 't', to: 'sub' }],
});

describe('Engine: child executions (ctx.executions)', () => {
  it('wakes a parent whose child ended before the parent node suspended on it', async () => {
    const h = harness();
    h.workflows.put('child', 1, childFlow);
    // the child ends (durably, its end handled) before the node returns its suspension
    withParentNode(h, { beforeSuspend: async (childId) => void (await h.engine.whenFinished(childId, 5000)) });
    const v = await h.run(parentFlow('child'), { n: 1 }, 5000);
    expect(v.status).toBe('succeeded');
    expect(h.node(v, 'sub').output).toEqual({ main: { set: { n: 1, child: true } } });
  });

  it('starts one child per node run, whatever the retries; the child records its parent', async () => {
    const h = harness();
    h.workflows.put('child', 1, childFlow);
    const started = withParentNode(h, { failFirstAttempt: true });
    const v = await h.run(parentFlow('child'), { n: 2 }, 5000);
    expect(v.status).toBe('succeeded');
    expect(h.node(v, 'sub').attempt).toBe(2);
    expect(new Set(started).size).toBe(1);
    const child = await h.engine.describe(started[0]!);
    expect(child).toMatchObject({ status: 'succeeded', input: { n: 2 }, parent: { executionId: v.id, workflowId: v.workflowId, nodeId: 'sub', reason: 'subworkflow', wait: true, depth: 1 } });
  });

  it('refuses a child beyond maxSubworkflowDepth and an unknown workflow, with clear codes', async () => {
    const h = harness({ options: { maxSubworkflowDepth: 0 } });
    h.workflows.put('child', 1, childFlow);
    withParentNode(h);
    const deep = await h.run(parentFlow('child'), {}, 5000);
    expect(h.node(deep, 'sub').error).toMatchObject({ code: 'SUBWORKFLOW_DEPTH' });
    const h2 = harness();
    withParentNode(h2);
    const missing = await h2.run(parentFlow('nope'), {}, 5000);
    expect(h2.node(missing, 'sub').error).toMatchObject({ code: 'SUBWORKFLOW_NOT_FOUND', message: expect.stringContaining('nope') });
  });
});
