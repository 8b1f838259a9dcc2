import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { Engine } from '@anchorflow/engine';
import { ENGINE } from '../../../engine/engine.tokens.js';
import { CancelExecutionCommand } from './cancel-execution.command.js';

/** Asks the engine to cancel; NOT_FOUND (404) or EXECUTION_FINISHED (409) come from the engine. */
@CommandHandler(CancelExecutionCommand)
export class CancelExecutionHandler implements ICommandHandler<CancelExecutionCommand> {
  constructor(@Inject(ENGINE) private readonly engine: Pick<Engine, 'cancel'>) {}

  async execute({ executionId, reason }: CancelExecutionCommand): Promise<void> {
    await this.engine.cancel(executionId, reason ?? 'cancelled through the API');
  }
}
