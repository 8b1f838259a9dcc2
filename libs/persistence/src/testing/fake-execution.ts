import { randomUUID } from 'node:crypto';
import {
  ExecutionFinishedEvent, ExecutionStartedEvent, NodeResumedEvent, NodeStartedEvent, NodeSucceededEvent, NodeWaitingEvent,
  type ExecutionEvent, type ExecutionStatus, type ExecutionStore, type ExecutionView, type NodeRunView,
} from '@anchorflow/engine';

/**
 * Drives an ExecutionStore the way the engine does (events in seq order plus a live view) without
 * the engine, so persistence tests do not depend on its scheduling.
 */
export class FakeExecution {
  readonly id: string;
  readonly workflowId: string;
  readonly appended: ExecutionEvent[] = [];
  private readonly state: ExecutionView;
  private at: number;

  constructor(private readonly store: ExecutionStore, options: { id?: string; workflowId?: string; startedAt?: number } = {}) {
    this.id = options.id ?? randomUUID();
    this.workflowId = options.workflowId ?? randomUUID();
    this.at = options.startedAt ?? Date.UTC(2026, 0, 1);
    this.state = { id: this.id, workflowId: this.workflowId, workflowVersion: 1, status: 'queued', input: undefined, startedAt: this.at, seq: 0, nodeRuns: [] };
  }

  /** a copy, as the store would see it at commit time */
  view = (): ExecutionView => structuredClone(this.state);

  start(input: unknown = { n: 1 }, dedupeKey?: string): this {
    Object.assign(this.state, { status: 'running', input, triggerNodeId: 'start', ...(dedupeKey ? { dedupeKey } : {}) });
    return this.emit(new ExecutionStartedEvent(this.id, this.state.seq + 1, this.at, this.workflowId, 1, input, 'start', dedupeKey));
  }

  nodeSucceeded(nodeId: string, output: Record<string, unknown> = { main: { ok: true } }): this {
    const startedAt = this.tick();
    this.emit(new NodeStartedEvent(this.id, this.state.seq + 1, startedAt, nodeId, 1), { nodeId, status: 'running', attempt: 1, startedAt });
    return this.emit(new NodeSucceededEvent(this.id, this.state.seq + 1, this.tick(), nodeId, 1, output, startedAt),
      { nodeId, status: 'succeeded', attempt: 1, output, startedAt, finishedAt: this.at });
  }

  nodeWaiting(nodeId: string, options: { until?: number; token?: string }): this {
    const startedAt = this.tick();
    this.state.status = 'waiting';
    if (options.until !== undefined) this.state.wakeAt = options.until;
    return this.emit(new NodeWaitingEvent(this.id, this.state.seq + 1, this.tick(), nodeId, 1, startedAt, options.until, options.token), {
      nodeId, status: 'waiting', attempt: 1, startedAt,
      ...(options.until !== undefined ? { waitUntil: options.until } : {}),
      ...(options.token !== undefined ? { resumeToken: options.token } : {}),
    });
  }

  nodeResumed(nodeId: string): this {
    this.state.status = 'running';
    delete this.state.wakeAt;
    const run = this.state.nodeRuns.find((r) => r.nodeId === nodeId)!;
    return this.emit(new NodeResumedEvent(this.id, this.state.seq + 1, this.tick(), nodeId, 'signal', { approved: true }),
      { nodeId, status: 'running', attempt: run.attempt, startedAt: run.startedAt });
  }

  finish(status: Extract<ExecutionStatus, 'succeeded' | 'failed' | 'cancelled'> = 'succeeded', output: Record<string, unknown> = { done: true }): this {
    Object.assign(this.state, { status, output, finishedAt: this.tick() });
    delete this.state.wakeAt;
    return this.emit(new ExecutionFinishedEvent(this.id, this.state.seq + 1, this.at, status, output));
  }

  /** appends several events of one step at once (as the engine does for a burst) */
  private emit(event: ExecutionEvent, run?: NodeRunView): this {
    this.state.seq = event.seq;
    if (run) {
      const index = this.state.nodeRuns.findIndex((r) => r.nodeId === run.nodeId);
      if (index >= 0) this.state.nodeRuns[index] = run;
      else this.state.nodeRuns.push(run);
    }
    this.appended.push(event);
    this.store.append([event], this.view);
    return this;
  }

  private tick(): number {
    this.at += 7;
    return this.at;
  }
}
