import { Inject } from '@nestjs/common';
import { type IQueryHandler, QueryHandler } from '@nestjs/cqrs';
import type { Page, WorkflowRepository, WorkflowSummary } from '@anchorflow/engine';
import { WORKFLOW_REPOSITORY } from '../../../core/database/database.tokens.js';
import { toWorkflowSummaryDto } from '../../workflow.presenter.js';
import { ListWorkflowsQuery } from './list-workflows.query.js';

@QueryHandler(ListWorkflowsQuery)
export class ListWorkflowsHandler implements IQueryHandler<ListWorkflowsQuery> {
  constructor(@Inject(WORKFLOW_REPOSITORY) private readonly workflows: WorkflowRepository) {}

  async execute({ filter }: ListWorkflowsQuery): Promise<Page<WorkflowSummary>> {
    const page = await this.workflows.list(filter);
    return { items: page.items.map(toWorkflowSummaryDto), ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
  }
}
