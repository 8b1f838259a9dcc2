import { Query } from '@nestjs/cqrs';

export interface ExecutionEventsPage {
  items: Array<Record<string, unknown>>;
  /** pass as afterSeq to read on; absent when this page was not full */
  nextAfterSeq?: number;
  /** format=receipt: the whole stored history, events as stored (epoch ms) with their hashes */
  format?: 'receipt';
  v?: 1;
  executionId?: string;
}

export class ListExecutionEventsQuery extends Query<ExecutionEventsPage> {
  constructor(
    readonly executionId: string,
    readonly afterSeq: number | undefined,
    readonly limit: number,
    readonly format?: 'receipt',
  ) {
    super();
  }
}
