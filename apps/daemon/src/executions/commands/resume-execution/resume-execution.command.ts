import { Command } from '@nestjs/cqrs';

/** Resume the node waiting on a token (approval links, outside events), handing it `data`. */
export class ResumeExecutionCommand extends Command<{ executionId: string; nodeId: string }> {
  constructor(
    readonly token: string,
    readonly data?: unknown,
  ) {
    super();
  }
}
