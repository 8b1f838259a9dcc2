import { Command } from '@nestjs/cqrs';

export class DeleteWorkflowCommand extends Command<void> {
  constructor(readonly workflowId: string) {
    super();
  }
}
