import { Query } from '@nestjs/cqrs';
import type { ExecutionDto } from '../../execution.presenter.js';

export class GetExecutionQuery extends Query<ExecutionDto> {
  constructor(readonly executionId: string) {
    super();
  }
}
