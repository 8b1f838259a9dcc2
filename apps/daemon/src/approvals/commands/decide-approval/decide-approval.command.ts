import { Command } from '@nestjs/cqrs';
import type { AuthPrincipal } from '../../../auth/principal.js';
import type { Decision } from '../../dto/approval.dto.js';

export interface ApprovalDecided {
  executionId: string;
  nodeId: string;
  decision: Decision;
  by: string;
  at: string;
  comment?: string;
}

/** A person decides a waiting approval node: checked against its approvers, then the node resumes. */
export class DecideApprovalCommand extends Command<ApprovalDecided> {
  constructor(
    readonly executionId: string,
    readonly nodeId: string,
    readonly decision: Decision,
    readonly principal: AuthPrincipal,
    readonly comment?: string,
  ) {
    super();
  }
}
