import { Query } from '@nestjs/cqrs';
import type { Page, WorkflowSummary } from '@anchorflow/engine';

export class ListWorkflowsQuery extends Query<Page<WorkflowSummary>> {
  constructor(readonly filter: { limit: number; cursor?: string; active?: boolean }) {
    super();
  }
}
