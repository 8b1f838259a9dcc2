import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { type Engine, EngineError } from '@anchorflow/engine';
import { ApiError } from '../../../common/api-error.js';
import { ENGINE } from '../../../engine/engine.tokens.js';
import { APPROVAL_TOKEN_PREFIX, approvalSpecOf, deciderName, mayDecide } from '../../approvers.js';
import { type ApprovalDecided, DecideApprovalCommand } from './decide-approval.command.js';

@CommandHandler(DecideApprovalCommand)
export class DecideApprovalHandler implements ICommandHandler<DecideApprovalCommand> {
  constructor(@Inject(ENGINE) private readonly engine: Pick<Engine, 'describe' | 'graph' | 'signal' | 'now'>) {}

  async execute({ executionId, nodeId, decision, principal, comment }: DecideApprovalCommand): Promise<ApprovalDecided> {
    const view = await this.engine.describe(executionId);
    if (!view) throw new EngineError('NOT_FOUND', `execution ${executionId} not found`);
    const run = view.nodeRuns.find((n) => n.nodeId === nodeId);
    const spec = run && approvalSpecOf((await this.engine.graph(view.workflowId, view.workflowVersion)).byId.get(nodeId));
    if (!run || !spec) throw new EngineError('NOT_FOUND', `execution ${executionId} has no approval node "${nodeId}"`);
    if (!mayDecide(principal, spec.approvers)) {
      throw new ApiError(403, 'NOT_AN_APPROVER', `you may not decide this approval: approvers are ${spec.approvers.join(', ')} (you are role ${principal.role}${principal.keyName ? `, key ${principal.keyName}` : ''})`);
    }
    const token = run.resumeToken;
    if (run.status !== 'waiting' || !token?.startsWith(APPROVAL_TOKEN_PREFIX)) throw notWaiting(nodeId, run.status);
    const decided: ApprovalDecided = { executionId, nodeId, decision, by: deciderName(principal), at: new Date(this.engine.now()).toISOString(), ...(comment !== undefined ? { comment } : {}) };
    try {
      await this.engine.signal(token, { decision: decided.decision, by: decided.by, at: decided.at, ...(comment !== undefined ? { comment } : {}) });
    } catch (err) {
      // someone decided between our read and the signal
      if (err instanceof EngineError && err.code === 'NOT_FOUND') throw notWaiting(nodeId, 'decided');
      throw err;
    }
    return decided;
  }
}

function notWaiting(nodeId: string, status: string): ApiError {
  return status === 'pending'
    ? new ApiError(409, 'APPROVAL_NOT_WAITING', `approval "${nodeId}" is not waiting for a decision yet`)
    : new ApiError(409, 'ALREADY_DECIDED', `approval "${nodeId}" was already decided (or timed out); it is ${status}`);
}
