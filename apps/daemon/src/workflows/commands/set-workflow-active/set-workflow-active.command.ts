import { Command } from '@nestjs/cqrs';
import type { WorkflowDto } from '../../workflow.presenter.js';

/** Activate (turn its triggers on) or deactivate a workflow. */
export class SetWorkflowActiveCommand extends Command<WorkflowDto> {
  constructor(
    readonly workflowId: string,
    readonly active: boolean,
  ) {
    super();
  }
}
