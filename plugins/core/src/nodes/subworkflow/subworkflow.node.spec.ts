import { describe, expect, it } from '@jest/globals';
import type { ChildExecution, ChildExecutions } from '@anchorflow/plugin-sdk';
import { runNode } from '@anchorflow/plugin-sdk/testing';
import { pollDelayMs, subworkflowNode } from './subworkflow.node.js';

/** A host's ctx.executions that answers with the child as the test sets it, recording the requests. */
function host(child: Partial<ChildExecution>) {
  const requests: unknown[] = [];
  const executions: ChildExecutions = {
    start: async (req) => {
      requests.push(req);
      return { executionId: 'c1', workflowId: req.workflowId, workflowVersion: 3, status: 'running', resumeToken: 'child:c1', ...child };
    },
  };
  return { executions, requests };
}

const now = () => 1_000_000;

describe('core.subworkflow', () => {
  it('starts the child with its own input by default and waits on the child token, polling as a fallback', async () => {
    const h = host({});
    const r = await runNode(subworkflowNode, { params: { workflowId: 'wf-b' }, input: { a: 1 }, executions: h.executions, now });
    expect(h.requests).toEqual([{ workflowId: 'wf-b', input: { a: 1 }, wait: true }]);
    expect(r).toMatchObject({ kind: 'suspend', suspension: { token: 'child:c1', until: now() + 120_000 } });
  });

  it('looks by itself rarely: after 2 minutes, less often the longer it waits, at most every 10 minutes', () => {
    expect([0, 1000, 300_000, 10_000_000].map(pollDelayMs)).toEqual([120_000, 120_000, 300_000, 600_000]);
  });

  it('outputs the child output once it succeeded, and passes params.input and version', async () => {
    const h = host({ status: 'succeeded', output: { last: { ok: true } } });
    const r = await runNode(subworkflowNode, { params: { workflowId: 'wf-b', version: 2, input: { x: 1 } }, executions: h.executions, resume: { reason: 'signal', suspendedAt: 0 }, now });
    expect(h.requests).toEqual([{ workflowId: 'wf-b', version: 2, input: { x: 1 }, wait: true }]);
    expect(r).toMatchObject({ kind: 'output', outputs: { main: { last: { ok: true } } } });
  });

  it.each([
    ['failed', 'SUBWORKFLOW_FAILED'],
    ['cancelled', 'SUBWORKFLOW_CANCELLED'],
  ] as const)('fails when the child %s, naming the child and its error', async (status, code) => {
    const h = host({ status, error: { code: 'BOOM', message: 'it broke', retryable: false } });
    await expect(runNode(subworkflowNode, { params: { workflowId: 'wf-b' }, executions: h.executions })).rejects.toMatchObject({ code, message: expect.stringContaining('it broke'), details: { executionId: 'c1' } });
  });

  it('fire-and-forget outputs the child reference at once', async () => {
    const h = host({});
    expect(await runNode(subworkflowNode, { params: { workflowId: 'wf-b', wait: false }, executions: h.executions })).toMatchObject({ kind: 'output', outputs: { main: { executionId: 'c1', workflowId: 'wf-b', workflowVersion: 3 } } });
    expect(h.requests).toEqual([expect.objectContaining({ wait: false })]);
  });

  it('says where it cannot run (a host without ctx.executions)', async () => {
    await expect(runNode(subworkflowNode, { params: { workflowId: 'wf-b' } })).rejects.toMatchObject({ code: 'UNSUPPORTED_HOST' });
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['no workflowId', {}, '$.workflowId'],
    ['a malformed workflowId', { workflowId: 'a b' }, '$.workflowId'],
    ['a version 0', { workflowId: 'x', version: 0 }, '$.version'],
    ['a non-boolean wait', { workflowId: 'x', wait: 'yes' }, '$.wait'],
  ])('rejects params with %s', async (_what, params, path) => {
    await expect(runNode(subworkflowNode, { params })).rejects.toMatchObject({ code: 'INVALID_PARAMS', details: expect.arrayContaining([expect.objectContaining({ path })]) });
  });
});
