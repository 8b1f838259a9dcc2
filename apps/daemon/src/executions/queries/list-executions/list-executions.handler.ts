import { Inject } from '@nestjs/common';
import { type IQueryHandler, QueryHandler } from '@nestjs/cqrs';
import type { ExecutionReader, Page } from '@anchorflow/engine';
import { EXECUTION_READER } from '../../../core/database/database.tokens.js';
import { type ExecutionSummaryDto, toExecutionSummaryDto } from '../../execution.presenter.js';
import { ListExecutionsQuery } from './list-executions.query.js';

@QueryHandler(ListExecutionsQuery)
export class ListExecutionsHandler implements IQueryHandler<ListExecutionsQuery> {
  constructor(@Inject(EXECUTION_READER) private readonly reader: Pick<ExecutionReader, 'list'>) {}

  async execute({ filter }: ListExecutionsQuery): Promise<Page<ExecutionSummaryDto>> {
    const page = await this.reader.list(filter);
    return { items: page.items.map(toExecutionSummaryDto), ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
  }
}
