import { Inject } from '@nestjs/common';
import { type IQueryHandler, QueryHandler } from '@nestjs/cqrs';
import { type Engine, EngineError, type ExecutionReader } from '@anchorflow/engine';
import { EXECUTION_READER } from '../../../core/database/database.tokens.js';
import { ENGINE } from '../../../engine/engine.tokens.js';
import { toEventDto } from '../../execution.presenter.js';
import { type ExecutionEventsPage, ListExecutionEventsQuery } from './list-execution-events.query.js';

@QueryHandler(ListExecutionEventsQuery)
export class ListExecutionEventsHandler implements IQueryHandler<ListExecutionEventsQuery> {
  constructor(
    @Inject(ENGINE) private readonly engine: Pick<Engine, 'view'>,
    @Inject(EXECUTION_READER) private readonly reader: Pick<ExecutionReader, 'events' | 'get'>,
  ) {}

  async execute({ executionId, afterSeq, limit, format }: ListExecutionEventsQuery): Promise<ExecutionEventsPage> {
    if (format === 'receipt') {
      // as stored: the verifier hashes exactly these members (no ISO times, nothing compacted)
      const events = await this.reader.events(executionId, { hashes: true });
      if (events.length === 0 && !this.engine.view(executionId) && !(await this.reader.get(executionId))) throw new EngineError('NOT_FOUND', `execution ${executionId} not found`);
      return { format: 'receipt', v: 1, executionId, items: events as unknown as Array<Record<string, unknown>> };
    }
    const events = await this.reader.events(executionId, { afterSeq, limit });
    if (events.length === 0 && !afterSeq && !this.engine.view(executionId) && !(await this.reader.get(executionId))) {
      throw new EngineError('NOT_FOUND', `execution ${executionId} not found`);
    }
    const items = events.map(toEventDto);
    const last = events.at(-1);
    return { items, ...(events.length >= limit && last ? { nextAfterSeq: last.seq } : {}) };
  }
}
