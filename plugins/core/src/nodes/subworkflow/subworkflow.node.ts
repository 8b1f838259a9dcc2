import { type ChildExecution, defineNode, NodeError } from '@anchorflow/plugin-sdk';
import { SubworkflowParams } from './subworkflow.params.js';

/**
 * When a waiting parent looks at its child by itself. The engine wakes it when the child ends; this only
 * covers a wake-up lost to a crash or to a child running on another daemon, so it is rare (2 min, growing
 * with the wait, at most 10 min) and beyond the engine's in-memory timer horizon: the wait holds no memory.
 */
export function pollDelayMs(waitedMs: number): number {
  return Math.min(Math.max(120_000, waitedMs), 600_000);
}

function finished(child: ChildExecution): boolean {
  return child.status === 'succeeded' || child.status === 'failed' || child.status === 'cancelled';
}

export const subworkflowNode = defineNode<SubworkflowParams>({
  type: 'core.subworkflow',
  version: 1,
  title: 'Sub-workflow',
  description:
    "Runs another workflow: with wait (default) it suspends until the child finishes and outputs the child's output or fails with its error (cancelling the parent cancels the child); without, it outputs {executionId} at once.",
  category: 'flow',
  inputs: ['main'],
  outputs: ['main'],
  params: SubworkflowParams,
  async execute(ctx, input) {
    if (!ctx.executions) throw new NodeError('core.subworkflow runs in the daemon only (this host cannot start workflows)', 'UNSUPPORTED_HOST');
    const { workflowId, version, wait } = ctx.params;
    // idempotent: a retry, a resume or a restart finds the child this node already started
    const child = await ctx.executions.start({ workflowId, ...(version !== undefined ? { version } : {}), input: ctx.params.input !== undefined ? ctx.params.input : input, wait });
    if (!wait) return { main: { executionId: child.executionId, workflowId: child.workflowId, workflowVersion: child.workflowVersion } };
    if (!finished(child)) {
      const waited = ctx.resume ? ctx.now() - ctx.resume.suspendedAt : 0;
      return ctx.suspend({ token: child.resumeToken, until: ctx.now() + pollDelayMs(waited) });
    }
    if (child.status === 'succeeded') return { main: child.output ?? {} };
    const why = child.error ? `: ${child.error.message}` : '';
    throw new NodeError(`sub-workflow execution ${child.executionId} ${child.status}${why}`, child.status === 'cancelled' ? 'SUBWORKFLOW_CANCELLED' : 'SUBWORKFLOW_FAILED', {
      executionId: child.executionId,
      ...(child.error ? { error: child.error } : {}),
    });
  },
});
