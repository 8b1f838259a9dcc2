import { Command } from '@nestjs/cqrs';
import type { WorkflowDto } from '../../workflow.presenter.js';

/** New version of a workflow; body.version must be the current version (optimistic concurrency). */
export class UpdateWorkflowCommand extends Command<WorkflowDto> {
  constructor(
    readonly workflowId: string,
    readonly body: unknown,
  ) {
    super();
  }
}
