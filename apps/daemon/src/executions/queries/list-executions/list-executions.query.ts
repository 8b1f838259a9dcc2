import { Query } from '@nestjs/cqrs';
import type { ExecutionStatus, Page } from '@anchorflow/engine';
import type { ExecutionSummaryDto } from '../../execution.presenter.js';

export class ListExecutionsQuery extends Query<Page<ExecutionSummaryDto>> {
  constructor(readonly filter: { workflowId?: string; status?: ExecutionStatus; limit: number; cursor?: string }) {
    super();
  }
}
