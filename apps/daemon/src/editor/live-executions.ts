/**
 * What the editor's sockets are told about executions, and the bookkeeping that lets a late watcher get
 * the current state first and then every live event exactly once (no gap, no duplicate), ordered by the
 * engine's per-execution sequence numbers. Plain TypeScript: the gateway wires it to socket.io.
 */

/** The protocol version every socket message carries (`v: 1`). */
export const EDITOR_PROTOCOL_VERSION = 1 as const;

/** The largest outputPreview sent with node:status, in characters of JSON. */
export const OUTPUT_PREVIEW_MAX_CHARS = 2048;

/** An engine execution event as stored or relayed (a plain object). */
export interface EngineEventLike {
  type: string;
  executionId: string;
  seq: number;
  at: number;
  [field: string]: unknown;
}

export type NodeStatus = 'running' | 'succeeded' | 'failed' | 'skipped' | 'cancelled' | 'waiting' | 'retrying';

export interface NodeStatusMessage {
  v: 1;
  executionId: string;
  seq: number;
  nodeId: string;
  status: NodeStatus;
  attempt: number;
  startedAt?: number;
  finishedAt?: number;
  /** the node's output, whole when small, else `{truncated: true, chars, preview}` (a prefix of its JSON) */
  outputPreview?: unknown;
  error?: unknown;
  /** when the next attempt starts (status `retrying`) */
  retryAt?: number;
}

export interface ExecutionStartedMessage {
  v: 1; executionId: string; seq: number; workflowId: string; workflowVersion: number; at: number;
}
export interface ExecutionFinishedMessage {
  v: 1; executionId: string; seq: number; status: string; at: number; output?: unknown; error?: unknown;
}
export interface ExecutionCancelRequestedMessage {
  v: 1; executionId: string; seq: number; at: number; reason?: string;
}

export type LiveMessage =
  | { event: 'execution:started'; seq: number; data: ExecutionStartedMessage }
  | { event: 'node:status'; seq: number; data: NodeStatusMessage }
  | { event: 'execution:finished'; seq: number; data: ExecutionFinishedMessage }
  | { event: 'execution:cancel-requested'; seq: number; data: ExecutionCancelRequestedMessage };

/** `value` if its JSON is small, else a marked prefix of it. */
export function preview(value: unknown, maxChars = OUTPUT_PREVIEW_MAX_CHARS): unknown {
  if (value === undefined) return undefined;
  let json: string;
  try {
    json = JSON.stringify(value) ?? 'null';
  } catch {
    return { truncated: true, chars: 0, preview: '[not serialisable]' };
  }
  return json.length <= maxChars ? value : { truncated: true, chars: json.length, preview: json.slice(0, maxChars) };
}

/** The socket message of one engine event (every event has one, so sequence numbers have no holes). */
export function toLiveMessage(e: EngineEventLike): LiveMessage | undefined {
  const base = { v: EDITOR_PROTOCOL_VERSION, executionId: e.executionId, seq: e.seq };
  const node = (status: NodeStatus, extra: Partial<NodeStatusMessage> = {}): LiveMessage => ({
    event: 'node:status',
    seq: e.seq,
    data: { ...base, nodeId: String(e.nodeId), status, attempt: typeof e.attempt === 'number' ? e.attempt : 0, ...extra },
  });
  const startedAt = typeof e.startedAt === 'number' ? e.startedAt : undefined;
  switch (e.type) {
    case 'execution.started':
      return { event: 'execution:started', seq: e.seq, data: { ...base, workflowId: String(e.workflowId), workflowVersion: Number(e.workflowVersion), at: e.at } };
    case 'node.started':
      return node('running', { startedAt: e.at });
    case 'node.succeeded':
      return node('succeeded', { startedAt, finishedAt: e.at, outputPreview: preview(e.output) });
    case 'node.failed':
      return typeof e.retryAt === 'number'
        ? node('retrying', { startedAt, finishedAt: e.at, error: e.error, retryAt: e.retryAt })
        : node('failed', { startedAt, finishedAt: e.at, error: e.error });
    case 'node.skipped':
      return node('skipped', { finishedAt: e.at });
    case 'node.waiting':
      return node('waiting', { startedAt });
    case 'node.resumed':
      return node('running');
    case 'node.cancelled':
      return node('cancelled', { finishedAt: e.at });
    case 'execution.cancel-requested':
      return { event: 'execution:cancel-requested', seq: e.seq, data: { ...base, at: e.at, reason: typeof e.reason === 'string' ? e.reason : undefined } };
    case 'execution.finished':
      return { event: 'execution:finished', seq: e.seq, data: { ...base, status: String(e.status), at: e.at, output: preview(e.output), error: e.error } };
    default:
      return undefined;
  }
}

/** `execution:state`: the fold of an execution's events so far, sent to a watcher before live events. */
export interface ExecutionStateMessage {
  v: 1;
  executionId: string;
  /** the last event included; live events follow from seq + 1 */
  seq: number;
  workflowId?: string;
  workflowVersion?: number;
  status: string;
  startedAt?: number;
  finishedAt?: number;
  /** the latest node:status of each node that has one */
  nodes: NodeStatusMessage[];
  error?: unknown;
}

/** Folds an execution's messages (from stored events and recent live ones, in any order, duplicates allowed). */
export function foldState(executionId: string, messages: readonly LiveMessage[]): ExecutionStateMessage {
  const state: ExecutionStateMessage = { v: EDITOR_PROTOCOL_VERSION, executionId, seq: 0, status: 'unknown', nodes: [] };
  const nodes = new Map<string, NodeStatusMessage>();
  const bySeq = new Map<number, LiveMessage>();
  for (const m of messages) bySeq.set(m.seq, m);
  for (const m of [...bySeq.values()].sort((a, b) => a.seq - b.seq)) {
    state.seq = m.seq;
    if (m.event === 'execution:started') Object.assign(state, { workflowId: m.data.workflowId, workflowVersion: m.data.workflowVersion, status: state.status === 'unknown' ? 'running' : state.status, startedAt: m.data.at });
    else if (m.event === 'node:status') {
      const prev = nodes.get(m.data.nodeId);
      nodes.set(m.data.nodeId, { ...m.data, startedAt: m.data.startedAt ?? prev?.startedAt });
    } else if (m.event === 'execution:finished') Object.assign(state, { status: m.data.status, finishedAt: m.data.at, error: m.data.error });
  }
  state.nodes = [...nodes.values()];
  return state;
}

const PRUNE_EVERY_MS = 1_000;

/**
 * The latest engine events of each execution, for a few seconds. The engine publishes an event before
 * its batched write is visible to readers, so a late watcher's state is the stored history plus these
 * (deduplicated by seq): together they have no hole. Events are kept as they are (no copy, no JSON) and
 * only for `keepMs`, so the hot path pays one array push per event; bounded per execution and overall.
 */
export class RecentEvents {
  private readonly byExecution = new Map<string, Array<{ at: number; event: EngineEventLike }>>();
  private lastPrune = -Infinity;

  constructor(
    private readonly keepMs = 5_000,
    private readonly perExecution = 2_000,
    private readonly maxExecutions = 2_000,
    private readonly now: () => number = Date.now,
  ) {}

  add(event: EngineEventLike): void {
    const t = this.now();
    let list = this.byExecution.get(event.executionId);
    if (!list) {
      // full: a sweep of every execution at most once per second (a sweep per new execution cost the
      // webhook hot path 6 % of its CPU once more than maxExecutions started within keepMs), else the oldest goes
      if (this.byExecution.size >= this.maxExecutions && t - this.lastPrune >= PRUNE_EVERY_MS) this.prune(t);
      if (this.byExecution.size >= this.maxExecutions) this.byExecution.delete(this.byExecution.keys().next().value!);
      this.byExecution.set(event.executionId, (list = []));
    }
    list.push({ at: t, event });
    if (list.length > this.perExecution || list[0]!.at < t - this.keepMs) this.trim(list, t);
  }

  of(executionId: string): EngineEventLike[] {
    const list = this.byExecution.get(executionId);
    if (!list) return [];
    this.trim(list, this.now());
    if (list.length === 0) this.byExecution.delete(executionId);
    return list.map((x) => x.event);
  }

  get size(): number {
    return this.byExecution.size;
  }

  private trim(list: Array<{ at: number }>, t: number): void {
    let drop = 0;
    while (drop < list.length && (list[drop]!.at < t - this.keepMs || list.length - drop > this.perExecution)) drop++;
    if (drop) list.splice(0, drop);
  }

  private prune(t: number): void {
    this.lastPrune = t;
    for (const [id, list] of this.byExecution) {
      this.trim(list, t);
      if (list.length === 0) this.byExecution.delete(id);
    }
  }
}

interface Watch {
  /** highest seq this watcher has been given */
  lastSeq: number;
  /** while the state is being loaded: live messages held back */
  held: LiveMessage[] | null;
}

/**
 * Who watches which execution, and what each has been sent. `deliver` is called with messages in seq
 * order, each at most once per watcher. A watcher starts `held` (live messages buffered) until its
 * state is in (`ready(state.seq)`), then gets the buffered messages newer than the state.
 */
export class ExecutionWatchers<W> {
  private readonly byExecution = new Map<string, Map<W, Watch>>();

  constructor(
    private readonly deliver: (watcher: W, message: LiveMessage) => void,
    /** optional: one message to several watchers at once (socket.io encodes it once for all) */
    private readonly deliverMany?: (watchers: W[], message: LiveMessage) => void,
  ) {}

  /** Starts holding live messages for `watcher`; call `ready` once the state was sent. */
  watch(executionId: string, watcher: W): void {
    let watchers = this.byExecution.get(executionId);
    if (!watchers) this.byExecution.set(executionId, (watchers = new Map()));
    watchers.set(watcher, { lastSeq: 0, held: [] });
  }

  ready(executionId: string, watcher: W, stateSeq: number): void {
    const w = this.byExecution.get(executionId)?.get(watcher);
    if (!w || !w.held) return;
    const held = w.held.sort((a, b) => a.seq - b.seq);
    w.held = null;
    w.lastSeq = Math.max(w.lastSeq, stateSeq);
    for (const m of held) this.send(watcher, w, m);
  }

  unwatch(executionId: string, watcher: W): void {
    const watchers = this.byExecution.get(executionId);
    watchers?.delete(watcher);
    if (watchers?.size === 0) this.byExecution.delete(executionId);
  }

  unwatchAll(watcher: W): void {
    for (const id of [...this.byExecution.keys()]) this.unwatch(id, watcher);
  }

  isWatched(executionId: string): boolean {
    return this.byExecution.has(executionId);
  }

  watcherCount(executionId?: string): number {
    if (executionId) return this.byExecution.get(executionId)?.size ?? 0;
    let n = 0;
    for (const w of this.byExecution.values()) n += w.size;
    return n;
  }

  publish(message: LiveMessage): void {
    const watchers = this.byExecution.get(message.data.executionId);
    if (!watchers) return;
    const due: W[] = [];
    for (const [watcher, w] of watchers) {
      if (w.held) w.held.push(message);
      else if (message.seq > w.lastSeq) {
        w.lastSeq = message.seq;
        due.push(watcher);
      }
    }
    if (due.length > 1 && this.deliverMany) this.deliverMany(due, message);
    else for (const watcher of due) this.deliver(watcher, message);
  }

  private send(watcher: W, w: Watch, m: LiveMessage): void {
    if (m.seq <= w.lastSeq) return; // already in the state or already sent (relayed twice)
    w.lastSeq = m.seq;
    this.deliver(watcher, m);
  }
}

/** A per-socket token bucket: `rate` messages per second on average, bursts up to `burst`. */
export class RateLimiter {
  private tokens: number;
  private last: number;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = burst;
    this.last = now();
  }

  take(): boolean {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.rate);
    this.last = t;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
