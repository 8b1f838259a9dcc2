import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { type Engine, EngineError } from '@anchorflow/engine';
import { ENGINE } from '../../../engine/engine.tokens.js';
import { ResumeExecutionCommand } from './resume-execution.command.js';

/** no `:`: tokens with one (`approval:…`, `child:…`) are reserved for the approvals route and the engine */
const TOKEN_RE = /^[A-Za-z0-9_-]{8,200}$/;

@CommandHandler(ResumeExecutionCommand)
export class ResumeExecutionHandler implements ICommandHandler<ResumeExecutionCommand> {
  constructor(@Inject(ENGINE) private readonly engine: Pick<Engine, 'signal'>) {}

  async execute({ token, data }: ResumeExecutionCommand): Promise<{ executionId: string; nodeId: string }> {
    // a malformed token cannot be waiting anywhere: same answer as an unknown one
    if (!TOKEN_RE.test(token)) throw new EngineError('NOT_FOUND', 'no node is waiting on this resume token');
    return this.engine.signal(token, data);
  }
}
