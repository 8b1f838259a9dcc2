import { Command } from '@nestjs/cqrs';

export class CancelExecutionCommand extends Command<void> {
  constructor(
    readonly executionId: string,
    readonly reason?: string,
  ) {
    super();
  }
}
