import type { ExecutionEvent } from '../events/execution-events.js';
import type { ExecutionView } from '../execution/execution.types.js';
import type { ExecutionStore } from '../ports/execution-store.port.js';
import type { WorkflowSource } from '../ports/workflow-source.port.js';
import type { WorkflowDefinition } from '../workflow/workflow.types.js';

/**
 * In-memory ExecutionStore with real group-commit semantics: appends are buffered and committed
 * together on the next macrotask; `durable()` resolves after the commit that includes everything
 * appended before it. `failNextCommits` simulates a database outage.
 */
export class MemoryExecutionStore implements ExecutionStore {
  readonly eventsById = new Map<string, ExecutionEvent[]>();
  readonly views = new Map<string, ExecutionView>();
  commits = 0;
  failNextCommits = 0;
  /** set to hold commits until released (to observe what is not yet durable) */
  hold?: Promise<void>;
  private pending: ExecutionEvent[] = [];
  private dirty = new Map<string, () => ExecutionView>();
  private waiters: Array<{ resolve(): void; reject(e: unknown): void }> = [];
  private scheduled = false;

  append(events: readonly ExecutionEvent[], view: () => ExecutionView): void {
    for (const e of events) this.pending.push(e);
    const id = events[0]?.executionId ?? view().id;
    this.dirty.set(id, view);
    this.schedule();
  }

  durable(): Promise<void> {
    if (!this.pending.length && !this.dirty.size && !this.scheduled) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => void this.commit());
  }

  private async commit(): Promise<void> {
    if (this.hold) await this.hold;
    const events = this.pending;
    const dirty = this.dirty;
    const waiters = this.waiters;
    this.pending = [];
    this.dirty = new Map();
    this.waiters = [];
    this.scheduled = false;
    if (this.failNextCommits > 0) {
      this.failNextCommits--;
      // keep everything for the next commit, as the real store does
      this.pending = [...events, ...this.pending];
      for (const [k, v] of dirty) if (!this.dirty.has(k)) this.dirty.set(k, v);
      for (const w of waiters) w.reject(new Error('simulated commit failure'));
      this.schedule();
      return;
    }
    this.commits++;
    for (const e of events) {
      const list = this.eventsById.get(e.executionId);
      const copy = JSON.parse(JSON.stringify(e)) as ExecutionEvent;
      if (list) list.push(copy);
      else this.eventsById.set(e.executionId, [copy]);
    }
    for (const [id, view] of dirty) this.views.set(id, JSON.parse(JSON.stringify(view())) as ExecutionView);
    for (const w of waiters) w.resolve();
  }

  async events(executionId: string): Promise<ExecutionEvent[]> {
    return [...(this.eventsById.get(executionId) ?? [])];
  }

  async get(executionId: string): Promise<ExecutionView | undefined> {
    return this.views.get(executionId);
  }

  async unfinished(): Promise<string[]> {
    return [...this.views.values()].filter((v) => !['succeeded', 'failed', 'cancelled'].includes(v.status)).map((v) => v.id);
  }

  async dueWakeUps(before: number, limit: number): Promise<Array<{ executionId: string; wakeAt: number }>> {
    return [...this.views.values()]
      .filter((v) => v.wakeAt !== undefined && v.wakeAt <= before && !['succeeded', 'failed', 'cancelled'].includes(v.status))
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

export class MemoryWorkflowSource implements WorkflowSource {
  readonly versions = new Map<string, WorkflowDefinition>();
  put(workflowId: string, version: number, def: WorkflowDefinition): void {
    this.versions.set(`${workflowId}@${version}`, def);
  }
  async getVersion(workflowId: string, version: number): Promise<WorkflowDefinition | undefined> {
    return this.versions.get(`${workflowId}@${version}`);
  }
  async latestVersion(workflowId: string): Promise<number | undefined> {
    let latest: number | undefined;
    for (const key of this.versions.keys()) {
      const at = key.lastIndexOf('@');
      if (key.slice(0, at) === workflowId) latest = Math.max(latest ?? 0, Number(key.slice(at + 1)));
    }
    return latest;
  }
}
