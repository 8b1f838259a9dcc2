import { Command } from '@nestjs/cqrs';
import type { ExecutionDto } from '../../execution.presenter.js';

export type StartExecutionResult =
  | { finished: true; execution: ExecutionDto }
  | { finished: false; executionId: string; status: ExecutionDto['status'] };

/** Start an execution of a workflow's latest version; with waitMs, wait up to that long for the result. */
export class StartExecutionCommand extends Command<StartExecutionResult> {
  constructor(
    readonly workflowId: string,
    readonly input: unknown,
    readonly triggerNodeId?: string,
    /** 0/undefined: answer as soon as the start is durable */
    readonly waitMs?: number,
  ) {
    super();
  }
}
