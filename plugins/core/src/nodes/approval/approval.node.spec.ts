import { describe, expect, it } from '@jest/globals';
import { runNode } from '@anchorflow/plugin-sdk/testing';
import { approvalNode, approvalToken } from './approval.node.js';

const now = () => Date.parse('2026-12-07T10:00:00.000Z');

describe('core.approval', () => {
  it('suspends on a reserved token derived from the node run, with no timer without timeoutMs', async () => {
    const r = await runNode(approvalNode, { params: { approvers: ['operator'] }, idempotencyKey: 'e1:approve', now });
    expect(r).toMatchObject({ kind: 'suspend', suspension: { token: 'approval:e1:approve' } });
    if (r.kind === 'suspend') expect(r.suspension.until).toBeUndefined();
    expect(approvalToken('e1:approve')).toBe('approval:e1:approve');
  });

  it('sets its timer from the engine clock when timeoutMs is given', async () => {
    const r = await runNode(approvalNode, { params: { approvers: ['alice'], timeoutMs: 60_000 }, now });
    expect(r).toMatchObject({ kind: 'suspend', suspension: { until: now() + 60_000 } });
  });

  it.each([
    ['approve', 'approved'],
    ['reject', 'rejected'],
  ] as const)('a %s decision leaves by %s with the decision as payload', async (decision, port) => {
    const data = { decision, by: 'alice', at: '2026-12-07T10:01:00.000Z', comment: 'ok' };
    const r = await runNode(approvalNode, { params: { approvers: ['alice'] }, resume: { reason: 'signal', data, suspendedAt: now() } });
    expect(r).toMatchObject({ kind: 'output', outputs: { [port]: data } });
    if (r.kind === 'output') expect(Object.keys(r.outputs)).toEqual([port]);
  });

  it.each([
    ['reject', { rejected: { decision: 'reject', by: 'timeout', at: '2026-12-07T10:00:00.000Z' } }],
    ['approve', { approved: { decision: 'approve', by: 'timeout', at: '2026-12-07T10:00:00.000Z' } }],
  ] as const)('on timeout with onTimeout %s it decides by itself', async (onTimeout, outputs) => {
    const r = await runNode(approvalNode, { params: { approvers: ['alice'], timeoutMs: 10, onTimeout }, resume: { reason: 'timer', suspendedAt: now() - 10 }, now });
    expect(r).toEqual(expect.objectContaining({ kind: 'output', outputs }));
  });

  it('fails with APPROVAL_TIMEOUT on timeout with onTimeout fail, and rejects by default', async () => {
    await expect(runNode(approvalNode, { params: { approvers: ['alice'], timeoutMs: 10, onTimeout: 'fail' }, resume: { reason: 'timer', suspendedAt: 0 }, now })).rejects.toMatchObject({ code: 'APPROVAL_TIMEOUT' });
    expect(await runNode(approvalNode, { params: { approvers: ['alice'], timeoutMs: 10 }, resume: { reason: 'timer', suspendedAt: 0 }, now })).toMatchObject({ outputs: { rejected: { by: 'timeout' } } });
  });

  it('refuses a resume without a decision (a signal not sent by the approvals route)', async () => {
    await expect(runNode(approvalNode, { params: { approvers: ['alice'] }, resume: { reason: 'signal', data: { approved: true }, suspendedAt: 0 } })).rejects.toMatchObject({ code: 'INVALID_DECISION' });
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['no approvers', {}, '$.approvers'],
    ['an empty list', { approvers: [] }, '$.approvers'],
    ['an expression', { approvers: '=$x' }, '$.approvers'],
    ['an entry that is an expression', { approvers: ['alice', '=$who'] }, '$.approvers'],
    ['a zero timeout', { approvers: ['a'], timeoutMs: 0 }, '$.timeoutMs'],
    ['an unknown onTimeout', { approvers: ['a'], onTimeout: 'ignore' }, '$.onTimeout'],
  ])('rejects params with %s', async (_what, params, path) => {
    await expect(runNode(approvalNode, { params })).rejects.toMatchObject({ code: 'INVALID_PARAMS', details: expect.arrayContaining([expect.objectContaining({ path })]) });
  });
});
