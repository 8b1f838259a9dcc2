import { Query } from '@nestjs/cqrs';
import type { Page } from '@anchorflow/engine';
import type { AuthPrincipal } from '../../../auth/principal.js';

export interface PendingApproval {
  executionId: string;
  workflowId: string;
  version: number;
  nodeId: string;
  approvers: string[];
  message?: string;
  since?: string;
  timeoutAt?: string;
  decideAt: string;
}

/** Approval nodes waiting for a decision the caller may make. */
export class ListApprovalsQuery extends Query<Page<PendingApproval>> {
  constructor(
    readonly principal: AuthPrincipal,
    readonly limit: number,
    readonly cursor?: string,
  ) {
    super();
  }
}
