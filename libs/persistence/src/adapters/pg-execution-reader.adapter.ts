import type { ExecutionEvent, ExecutionReader, ExecutionStatus, ExecutionSummary, ExecutionView, Page } from '@anchorflow/engine';
import type { SqlPool } from '../database/sql-pool.js';
import { clampLimit, decodeCursor, encodeCursor, fromMicros, micros } from '../internal/cursor.js';
import { isUuid, readEvents, readExecution, SUMMARY_COLUMNS, toSummary, type ExecutionRow } from './execution-rows.js';

/** Read side of executions for the API: the projection rows and the event history. */
export class PgExecutionReader implements ExecutionReader {
  private readonly pool: SqlPool;

  constructor(db: { pool: SqlPool }) {
    this.pool = db.pool;
  }

  get(id: string): Promise<ExecutionView | undefined> {
    return readExecution(this.pool, id);
  }

  events(id: string, options: { afterSeq?: number; limit?: number; hashes?: boolean } = {}): Promise<ExecutionEvent[]> {
    return readEvents(this.pool, id, options.afterSeq ?? 0, options.limit === undefined ? undefined : clampLimit(options.limit, 10_000), options.hashes);
  }

  /** newest first (started_at, then id) */
  async countUnfinished(): Promise<Partial<Record<ExecutionStatus, number>>> {
    // execution_unfinished_idx covers this: it only holds unfinished rows
    const { rows } = await this.pool.query<{ status: ExecutionStatus; n: number }>(
      `SELECT status, count(*)::int AS n FROM execution WHERE status NOT IN ('succeeded', 'failed', 'cancelled') GROUP BY status`);
    const counts: Partial<Record<ExecutionStatus, number>> = {};
    for (const row of rows) counts[row.status] = row.n;
    return counts;
  }

  async list(query: { workflowId?: string; status?: ExecutionStatus; limit: number; cursor?: string }): Promise<Page<ExecutionSummary>> {
    const limit = clampLimit(query.limit);
    const where: string[] = [];
    const values: unknown[] = [];
    if (query.workflowId !== undefined) {
      if (!isUuid(query.workflowId)) return { items: [] };
      values.push(query.workflowId);
      where.push(`workflow_id = $${values.length}`);
    }
    if (query.status !== undefined) {
      values.push(query.status);
      where.push(`status = $${values.length}`);
    }
    if (query.cursor !== undefined) {
      const key = decodeCursor(query.cursor);
      values.push(key.us, key.id);
      where.push(`(started_at, id) < (${fromMicros(`$${values.length - 1}`)}, $${values.length}::uuid)`);
    }
    values.push(limit + 1);
    const { rows } = await this.pool.query<ExecutionRow & { started_us: string }>(
      `SELECT ${SUMMARY_COLUMNS}, ${micros('started_at')} AS started_us FROM execution
       ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY started_at DESC, id DESC LIMIT $${values.length}`,
      values);
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map(toSummary),
      ...(rows.length > limit && last ? { nextCursor: encodeCursor({ us: last.started_us, id: last.id }) } : {}),
    };
  }
}
