import type { ExecutionEvent, ExecutionReader, ExecutionStatus, ExecutionStore, ExecutionSummary, ExecutionView, Page } from '@anchorflow/engine';

const TERMINAL = new Set(['succeeded', 'failed', 'cancelled']);
const copy = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/**
 * In-memory ExecutionStore + ExecutionReader for daemon specs that run without PostgreSQL.
 * Appends are committed together on the next macrotask (group commit, like the real store).
 */
export class MemoryExecutions implements ExecutionStore, ExecutionReader {
  readonly eventsById = new Map<string, ExecutionEvent[]>();
  readonly views = new Map<string, ExecutionView>();
  closed = false;
  private pending: ExecutionEvent[] = [];
  private dirty = new Map<string, () => ExecutionView>();
  private waiters: Array<() => void> = [];
  private scheduled = false;

  append(events: readonly ExecutionEvent[], view: () => ExecutionView): void {
    this.pending.push(...events);
    this.dirty.set(events[0]?.executionId ?? view().id, view);
    this.schedule();
  }

  durable(): Promise<void> {
    if (!this.scheduled) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      const events = this.pending;
      const dirty = this.dirty;
      const waiters = this.waiters;
      this.pending = [];
      this.dirty = new Map();
      this.waiters = [];
      this.scheduled = false;
      for (const e of events) {
        const list = this.eventsById.get(e.executionId) ?? [];
        list.push(copy(e));
        this.eventsById.set(e.executionId, list);
      }
      for (const [id, view] of dirty) this.views.set(id, copy(view()));
      for (const w of waiters) w();
    });
  }

  async close(): Promise<void> {
    await this.durable();
    this.closed = true;
  }

  async get(id: string): Promise<ExecutionView | undefined> {
    return this.views.get(id);
  }

  async events(id: string, options: { afterSeq?: number; limit?: number } = {}): Promise<ExecutionEvent[]> {
    const all = (this.eventsById.get(id) ?? []).filter((e) => e.seq > (options.afterSeq ?? 0));
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

  async unfinished(): Promise<string[]> {
    return [...this.views.values()].filter((v) => !TERMINAL.has(v.status)).map((v) => v.id);
  }

  async dueWakeUps(before: number, limit: number): Promise<Array<{ executionId: string; wakeAt: number }>> {
    return [...this.views.values()]
      .filter((v) => v.wakeAt !== undefined && v.wakeAt <= before && !TERMINAL.has(v.status))
      .slice(0, limit)
      .map((v) => ({ executionId: v.id, wakeAt: v.wakeAt! }));
  }

  async findResumeToken(token: string): Promise<{ executionId: string; nodeId: string } | undefined> {
    for (const v of this.views.values()) for (const n of v.nodeRuns) if (n.resumeToken === token) return { executionId: v.id, nodeId: n.nodeId };
    return undefined;
  }

  async findByDedupeKey(workflowId: string, dedupeKey: string): Promise<string | undefined> {
    for (const v of this.views.values()) if (v.workflowId === workflowId && v.dedupeKey === dedupeKey) return v.id;
    return undefined;
  }
}
