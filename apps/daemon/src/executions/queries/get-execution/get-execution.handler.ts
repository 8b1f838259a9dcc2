import { Inject } from '@nestjs/common';
import { type IQueryHandler, QueryHandler } from '@nestjs/cqrs';
import { type Engine, EngineError, type ExecutionReader } from '@anchorflow/engine';
import { EXECUTION_READER } from '../../../core/database/database.tokens.js';
import { ENGINE } from '../../../engine/engine.tokens.js';
import { type ExecutionDto, toExecutionDto } from '../../execution.presenter.js';
import { withNodeInputs } from '../../node-inputs.js';
import { GetExecutionQuery } from './get-execution.query.js';

@QueryHandler(GetExecutionQuery)
export class GetExecutionHandler implements IQueryHandler<GetExecutionQuery> {
  constructor(
    @Inject(ENGINE) private readonly engine: Pick<Engine, 'describe' | 'graph'>,
    @Inject(EXECUTION_READER) private readonly reader: Pick<ExecutionReader, 'get'>,
  ) {}

  async execute({ executionId }: GetExecutionQuery): Promise<ExecutionDto> {
    // live from memory while it runs here, else folded from its events (node runs are not in the summary row)
    const view = (await this.engine.describe(executionId)) ?? (await this.reader.get(executionId));
    if (!view) throw new EngineError('NOT_FOUND', `execution ${executionId} not found`);
    return toExecutionDto(await withNodeInputs(this.engine, view));
  }
}
