import { Inject } from '@nestjs/common';
import { type IQueryHandler, QueryHandler } from '@nestjs/cqrs';
import { EngineError, type WorkflowRepository } from '@anchorflow/engine';
import { WORKFLOW_REPOSITORY } from '../../../core/database/database.tokens.js';
import { toWorkflowDto, type WorkflowDto } from '../../workflow.presenter.js';
import { GetWorkflowQuery } from './get-workflow.query.js';

@QueryHandler(GetWorkflowQuery)
export class GetWorkflowHandler implements IQueryHandler<GetWorkflowQuery> {
  constructor(@Inject(WORKFLOW_REPOSITORY) private readonly workflows: WorkflowRepository) {}

  async execute({ workflowId, version }: GetWorkflowQuery): Promise<WorkflowDto> {
    const stored = await this.workflows.get(workflowId, version);
    if (!stored) throw new EngineError('NOT_FOUND', version === undefined ? `workflow ${workflowId} not found` : `workflow ${workflowId} has no version ${version}`);
    return toWorkflowDto(stored);
  }
}
