import { defineNode, NodeError } from '@anchorflow/plugin-sdk';
import { isPlainObject } from '../../shared/validators.js';
import { ApprovalParams } from './approval.params.js';

/** What a decision carries, on port `approved` or `rejected`. `at` is ISO 8601. */
export interface ApprovalDecision {
  decision: 'approve' | 'reject';
  by: string;
  at: string;
  comment?: string;
}

/**
 * The token an approval node waits on. Reserved (the public resume route refuses it): only the approvals
 * route, which checks the caller against `approvers`, delivers a decision.
 */
export const approvalToken = (idempotencyKey: string): string => `approval:${idempotencyKey}`;

function decisionOf(data: unknown): ApprovalDecision {
  if (!isPlainObject(data) || (data.decision !== 'approve' && data.decision !== 'reject') || typeof data.by !== 'string' || typeof data.at !== 'string') {
    throw new NodeError('an approval was resumed without a decision {decision: approve|reject, by, at}', 'INVALID_DECISION');
  }
  return { decision: data.decision, by: data.by, at: data.at, ...(typeof data.comment === 'string' ? { comment: data.comment } : {}) };
}

export const approvalNode = defineNode<ApprovalParams>({
  type: 'core.approval',
  version: 1,
  title: 'Approval',
  description:
    'Waits, durably and without holding memory, until one of `approvers` decides with POST /api/v1/executions/{id}/approvals/{nodeId}, then leaves by `approved` or `rejected` with {decision, by, at, comment}.',
  category: 'flow',
  inputs: ['main'],
  outputs: ['approved', 'rejected'],
  params: ApprovalParams,
  execute(ctx) {
    const { resume, params } = ctx;
    if (!resume) {
      const token = approvalToken(ctx.idempotencyKey);
      return ctx.suspend(params.timeoutMs !== undefined ? { token, until: ctx.now() + params.timeoutMs } : { token });
    }
    if (resume.reason === 'signal') {
      const d = decisionOf(resume.data);
      return d.decision === 'approve' ? { approved: d } : { rejected: d };
    }
    // the timer: nobody decided within timeoutMs
    if (params.onTimeout === 'fail') throw new NodeError(`nobody decided within ${params.timeoutMs} ms`, 'APPROVAL_TIMEOUT');
    const d: ApprovalDecision = { decision: params.onTimeout, by: 'timeout', at: new Date(ctx.now()).toISOString() };
    return params.onTimeout === 'approve' ? { approved: d } : { rejected: d };
  },
});
