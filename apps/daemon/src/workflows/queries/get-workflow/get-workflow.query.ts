import { Query } from '@nestjs/cqrs';
import type { WorkflowDto } from '../../workflow.presenter.js';

/** The latest version, or the given one. */
export class GetWorkflowQuery extends Query<WorkflowDto> {
  constructor(
    readonly workflowId: string,
    readonly version?: number,
  ) {
    super();
  }
}
