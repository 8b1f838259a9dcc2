import { Command } from '@nestjs/cqrs';
import type { WorkflowDto } from '../../workflow.presenter.js';

export class CreateWorkflowCommand extends Command<WorkflowDto> {
  /** body: the submitted workflow JSON, unvalidated */
  constructor(readonly body: unknown) {
    super();
  }
}
