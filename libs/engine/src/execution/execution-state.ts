import type { ErrorInfo, NodeOutputs, ResumeInfo } from '@anchorflow/plugin-sdk';
import type { ExecutionEvent, ExecutionParent, ExecutionStartedEvent } from '../events/execution-events.js';
import type { CompiledGraph } from '../workflow/compiled-graph.js';
import type { ExecutionStatus, ExecutionView, NodeRunStatus, NodeRunView } from './execution.types.js';

export interface NodeRunState {
  status: NodeRunStatus;
  attempt: number;
  output?: NodeOutputs;
  error?: ErrorInfo;
  startedAt?: number;
  finishedAt?: number;
  retryAt?: number;
  waitUntil?: number;
  resumeToken?: string;
  /** set by node.resumed until the node runs again */
  resume?: ResumeInfo;
  suspendedAt?: number;
  /** when the last wait ended (the node run keeps its first startedAt) */
  resumedAt?: number;
}

const TERMINAL: Record<NodeRunStatus, boolean> = {
  pending: false, running: false, waiting: false, succeeded: true, failed: true, skipped: true, cancelled: true,
};

export function isTerminalNode(n: NodeRunState): boolean {
  return TERMINAL[n.status] && n.retryAt === undefined;
}

/** The payload a node "is" for bindings and execution output: the one emitted port's value, else the port map. */
export function payloadOf(output: NodeOutputs | undefined): unknown {
  if (!output) return undefined;
  let only: string | undefined;
  let count = 0;
  for (const k in output) {
    only = k;
    if (++count > 1) return output;
  }
  return count === 1 ? output[only!] : output;
}

/**
 * The state of one execution: a fold of its events (`apply`). The live engine and recovery after
 * a crash use the same fold, so what is replayed is exactly what was run.
 */
export class ExecutionState {
  status: ExecutionStatus = 'running';
  seq = 0;
  output?: Record<string, unknown>;
  error?: ErrorInfo;
  finishedAt?: number;
  cancelRequested?: string;
  /** the execution that started this one, if any */
  parent?: ExecutionParent;
  terminalCount = 0;
  readonly nodes: NodeRunState[];
  /** $nodes binding: payload per succeeded (or continued-failed) node */
  readonly nodePayloads: Record<string, unknown> = {};

  constructor(
    readonly graph: CompiledGraph,
    readonly id: string,
    readonly workflowId: string,
    readonly workflowVersion: number,
    readonly input: unknown,
    readonly triggerNodeId: string | undefined,
    readonly dedupeKey: string | undefined,
    readonly startedAt: number,
  ) {
    this.nodes = graph.nodes.map(() => ({ status: 'pending', attempt: 0 }));
  }

  static fromStarted(graph: CompiledGraph, e: ExecutionStartedEvent): ExecutionState {
    const s = new ExecutionState(graph, e.executionId, e.workflowId, e.workflowVersion, e.input, e.triggerNodeId, e.dedupeKey, e.at);
    s.seq = e.seq;
    if (e.parent) s.parent = e.parent;
    return s;
  }

  get finished(): boolean {
    return this.status === 'succeeded' || this.status === 'failed' || this.status === 'cancelled';
  }

  private setTerminal(n: NodeRunState, apply: () => void): void {
    const was = isTerminalNode(n);
    apply();
    const is = isTerminalNode(n);
    if (!was && is) this.terminalCount++;
    else if (was && !is) this.terminalCount--;
  }

  apply(e: ExecutionEvent): void {
    this.seq = e.seq;
    switch (e.type) {
      case 'execution.started':
        return;
      case 'node.started': {
        const n = this.node(e.nodeId);
        this.setTerminal(n, () => {
          n.status = 'running';
          n.attempt = e.attempt;
          // a resumed node keeps when it first started
          if (!n.resume || n.startedAt === undefined) n.startedAt = e.at;
          if (!n.resume) n.resumedAt = undefined;
          n.finishedAt = n.error = n.retryAt = undefined;
        });
        return;
      }
      case 'node.succeeded': {
        const n = this.node(e.nodeId);
        this.setTerminal(n, () => {
          n.status = 'succeeded';
          n.attempt = e.attempt;
          n.output = e.output;
          n.startedAt = e.startedAt;
          n.finishedAt = e.at;
          n.error = n.retryAt = n.waitUntil = n.resumeToken = n.resume = undefined;
        });
        this.nodePayloads[e.nodeId] = payloadOf(e.output);
        return;
      }
      case 'node.failed': {
        const n = this.node(e.nodeId);
        this.setTerminal(n, () => {
          n.attempt = e.attempt;
          n.error = e.error;
          n.startedAt = e.startedAt;
          n.finishedAt = e.at;
          n.waitUntil = n.resumeToken = n.resume = undefined;
          if (e.retryAt !== undefined) {
            n.status = 'pending';
            n.retryAt = e.retryAt;
          } else {
            n.status = 'failed';
            n.retryAt = undefined;
            if (e.continued) {
              const error = { ...e.error, nodeId: e.nodeId };
              // errorPort: the error itself on port `error`; continue: {error} on the main port
              n.output = e.continuedOn === 'main' ? { main: { error } } : { error };
            }
          }
        });
        if (e.continued) this.nodePayloads[e.nodeId] = payloadOf(this.node(e.nodeId).output);
        return;
      }
      case 'node.skipped':
      case 'node.cancelled': {
        const n = this.node(e.nodeId);
        this.setTerminal(n, () => {
          n.status = e.type === 'node.skipped' ? 'skipped' : 'cancelled';
          n.finishedAt = e.at;
          if (e.type === 'node.cancelled' && e.attempt !== undefined) {
            n.attempt = e.attempt;
            n.startedAt = e.startedAt;
          }
          n.retryAt = n.waitUntil = n.resumeToken = n.resume = undefined;
        });
        return;
      }
      case 'node.waiting': {
        const n = this.node(e.nodeId);
        this.setTerminal(n, () => {
          n.status = 'waiting';
          n.attempt = e.attempt;
          n.startedAt = e.startedAt;
          n.suspendedAt ??= e.at;
          n.waitUntil = e.until;
          n.resumeToken = e.token;
          n.retryAt = n.resume = undefined;
        });
        return;
      }
      case 'node.resumed': {
        const n = this.node(e.nodeId);
        n.status = 'pending';
        n.resume = { reason: e.reason, ...(e.data !== undefined ? { data: e.data } : {}), suspendedAt: n.suspendedAt ?? e.at };
        n.resumedAt = e.at;
        n.waitUntil = n.resumeToken = undefined;
        return;
      }
      case 'execution.cancel-requested':
        this.cancelRequested = e.reason;
        return;
      case 'execution.finished':
        this.status = e.status;
        this.output = e.output;
        this.error = e.error;
        this.finishedAt = e.at;
        return;
    }
  }

  node(id: string): NodeRunState {
    const g = this.graph.byId.get(id);
    if (!g) throw new Error(`event for unknown node ${id} in execution ${this.id}`);
    return this.nodes[g.index];
  }

  /** The projection the API and the store see. */
  view(): ExecutionView {
    let wakeAt: number | undefined;
    let failedNodes: string[] | undefined;
    const nodeRuns: NodeRunView[] = new Array(this.nodes.length);
    for (let i = 0; i < this.nodes.length; i++) {
      const n = this.nodes[i];
      const v: NodeRunView = { nodeId: this.graph.nodes[i].id, status: n.status, attempt: n.attempt };
      if (n.output !== undefined) v.output = n.output;
      if (n.error !== undefined) v.error = n.error;
      if (n.startedAt !== undefined) v.startedAt = n.startedAt;
      if (n.finishedAt !== undefined) v.finishedAt = n.finishedAt;
      if (n.resumedAt !== undefined) v.resumedAt = n.resumedAt;
      if (n.status === 'failed') (failedNodes ??= []).push(v.nodeId);
      if (n.retryAt !== undefined) {
        v.retryAt = n.retryAt;
        if (wakeAt === undefined || n.retryAt < wakeAt) wakeAt = n.retryAt;
      }
      if (n.waitUntil !== undefined) {
        v.waitUntil = n.waitUntil;
        if (wakeAt === undefined || n.waitUntil < wakeAt) wakeAt = n.waitUntil;
      }
      if (n.resumeToken !== undefined) v.resumeToken = n.resumeToken;
      nodeRuns[i] = v;
    }
    const view: ExecutionView = {
      id: this.id,
      workflowId: this.workflowId,
      workflowVersion: this.workflowVersion,
      status: this.status,
      input: this.input,
      startedAt: this.startedAt,
      seq: this.seq,
      nodeRuns,
    };
    if (this.output !== undefined) view.output = this.output;
    if (this.error !== undefined) view.error = this.error;
    if (this.triggerNodeId !== undefined) view.triggerNodeId = this.triggerNodeId;
    if (this.dedupeKey !== undefined) view.dedupeKey = this.dedupeKey;
    if (this.parent !== undefined) view.parent = this.parent;
    if (this.finishedAt !== undefined) view.finishedAt = this.finishedAt;
    if (failedNodes) view.failedNodes = failedNodes;
    if (!this.finished && wakeAt !== undefined) view.wakeAt = wakeAt;
    return view;
  }
}

/**
 * The input a node receives given its predecessors' outputs (ARCHITECTURE §4): one live edge → that
 * payload; several → an object keyed by source node id, in edge order. `sources` lists the live sources.
 */
export function inputOf(
  graph: CompiledGraph,
  index: number,
  nodes: readonly { output?: NodeOutputs }[],
  executionInput: unknown,
): { live: boolean; input: unknown; sources: string[] } {
  const incoming = graph.nodes[index].incoming;
  if (incoming.length === 0) return { live: true, input: executionInput, sources: [] };
  const sources: string[] = [];
  const payloads: unknown[] = [];
  for (const e of incoming) {
    const out = nodes[e.from].output;
    if (!out || !(e.fromPort in out)) continue;
    const id = graph.nodes[e.from].id;
    sources.push(sources.includes(id) ? `${id}.${e.fromPort}` : id);
    payloads.push(out[e.fromPort]);
  }
  if (sources.length === 0) return { live: false, input: undefined, sources };
  if (sources.length === 1) return { live: true, input: payloads[0], sources };
  const keyed: Record<string, unknown> = {};
  for (let i = 0; i < sources.length; i++) keyed[sources[i]] = payloads[i];
  return { live: true, input: keyed, sources };
}
