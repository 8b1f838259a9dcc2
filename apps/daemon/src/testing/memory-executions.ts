import { type ExecutionEvent, type ExecutionReader, type ExecutionStatus, type ExecutionSummary, type Page } from '@anchorflow/engine';
import { MemoryExecutionStore } from '@anchorflow/engine/testing';

/**
 * In-memory ExecutionStore + ExecutionReader for daemon specs that run without PostgreSQL: the engine's
 * own test store (group commit on the next macrotask, like the real one) plus the read side the API needs.
 */
export class MemoryExecutions extends MemoryExecutionStore implements ExecutionReader {
  closed = false;

  async close(): Promise<void> {
    await this.durable();
    this.closed = true;
  }

  override async events(id: string, options: { afterSeq?: number; limit?: number } = {}): Promise<ExecutionEvent[]> {
    const all = (await super.events(id)).filter((e) => e.seq > (options.afterSeq ?? 0));
    return all.slice(0, options.limit ?? all.length);
  }

  async list(query: { workflowId?: string; status?: ExecutionStatus; limit: number; cursor?: string }): Promise<Page<ExecutionSummary>> {
    const all = [...this.views.values()]
      .filter((v) => (!query.workflowId || v.workflowId === query.workflowId) && (!query.status || v.status === query.status))
      .sort((a, b) => b.startedAt - a.startedAt);
    const start = query.cursor ? Number(query.cursor) : 0;
    const items = all.slice(start, start + query.limit).map(({ nodeRuns: _n, input: _i, output: _o, ...rest }) => rest);
    return { items, ...(start + query.limit < all.length ? { nextCursor: String(start + query.limit) } : {}) };
  }

  async countUnfinished(): Promise<Partial<Record<ExecutionStatus, number>>> {
    const counts: Partial<Record<ExecutionStatus, number>> = {};
    for (const v of this.views.values()) if (!['succeeded', 'failed', 'cancelled'].includes(v.status)) counts[v.status] = (counts[v.status] ?? 0) + 1;
    return counts;
  }
}
