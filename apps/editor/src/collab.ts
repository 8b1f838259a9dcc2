import { io, type Socket } from 'socket.io-client';
import { applyOps, type OpsDefinition, type WorkflowOp } from '../../daemon/src/editor/workflow-ops';
import { authRequired, getToken } from './api';

export interface Problem {
  code: string;
  message: string;
  path: string;
  nodeId?: string;
}

export interface PendingPatch {
  patchId: string;
  baseVersion: number;
  ops: WorkflowOp[];
  /** the ops that undo this patch (for undo) */
  inverse?: WorkflowOp[];
}

export interface Conflict {
  index: number;
  op: WorkflowOp;
  reason: string;
}

export interface CollabState {
  connected: boolean;
  /** acknowledged by the server */
  version: number;
  server: OpsDefinition | null;
  /** what the user sees: the server's definition with the pending ops on top */
  view: OpsDefinition | null;
  pending: PendingPatch[];
  problems: Problem[];
  presence: Array<{ socketId: string; who: string; name: string; selectedNodeId: string | null }>;
  conflicts: Array<{ patch: PendingPatch; conflicts: Conflict[]; message: string }>;
  lastError: string | null;
}

const outboxKey = (workflowId: string) => `anchorflow.editor.outbox.${workflowId}`;

function loadOutbox(workflowId: string): PendingPatch[] {
  try {
    const raw = localStorage.getItem(outboxKey(workflowId));
    return raw ? (JSON.parse(raw) as PendingPatch[]) : [];
  } catch {
    return [];
  }
}

function newId(): string {
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
}

let shared: Socket | null = null;
/** one socket per page (namespace /editor), authenticated with the current token */
export function editorSocket(): Socket {
  if (!shared) {
    shared = io('/editor', { auth: (cb) => cb({ token: getToken() ?? '' }), transports: ['websocket'] });
    shared.on('connect_error', (err: Error & { data?: { code?: string } }) => {
      if (err.data?.code === 'UNAUTHORIZED') authRequired();
    });
  }
  return shared;
}

/** after a new login: reconnect with the new token */
export function reconnectSocket(): void {
  if (!shared) return;
  shared.disconnect();
  shared.connect();
}

/**
 * One open workflow: the acknowledged version, the ops not yet acknowledged (kept in localStorage and
 * replayed after a reload, a reconnect or a new login, with their patch ids so nothing lands twice),
 * others' changes arriving live, presence.
 */
export class WorkflowSession {
  state: CollabState;
  private readonly listeners = new Set<(s: CollabState) => void>();
  private inflight: PendingPatch | null = null;
  private readonly socket: Socket;
  private readonly off: Array<() => void> = [];

  constructor(readonly workflowId: string) {
    this.socket = editorSocket();
    const pending = loadOutbox(workflowId);
    this.state = { connected: this.socket.connected, version: 0, server: null, view: null, pending, problems: [], presence: [], conflicts: [], lastError: null };
    const on = (event: string, fn: (...args: any[]) => void) => {
      this.socket.on(event, fn);
      this.off.push(() => this.socket.off(event, fn));
    };
    on('connect', () => void this.join());
    on('disconnect', () => {
      this.inflight = null;
      this.set({ connected: false });
    });
    on('workflow:changed', (m: any) => this.changed(m));
    on('workflow:presence', (m: any) => m.workflowId === workflowId && this.set({ presence: m.users }));
    if (this.socket.connected) void this.join();
  }

  subscribe(fn: (s: CollabState) => void): () => void {
    this.listeners.add(fn);
    fn(this.state);
    return () => this.listeners.delete(fn);
  }

  close(): void {
    for (const f of this.off) f();
    if (this.socket.connected) this.socket.emit('workflow:unwatch', { v: 1, workflowId: this.workflowId });
  }

  private set(patch: Partial<CollabState>): void {
    const next = { ...this.state, ...patch };
    if ('server' in patch || 'pending' in patch) {
      next.view = next.server ? this.viewOf(next.server, next.pending) : null;
      localStorage.setItem(outboxKey(this.workflowId), JSON.stringify(next.pending));
    }
    this.state = next;
    for (const l of this.listeners) l(next);
  }

  private viewOf(server: OpsDefinition, pending: PendingPatch[]): OpsDefinition {
    let view = server;
    for (const p of pending) {
      try {
        view = applyOps(view, p.ops);
      } catch {
        /* shown once the server answers */
      }
    }
    return view;
  }

  private async join(): Promise<void> {
    const answer = await this.socket.timeout(10_000).emitWithAck('workflow:watch', { v: 1, workflowId: this.workflowId }).catch((err: Error) => ({ ok: false, message: err.message }));
    if (!answer.ok) {
      if (answer.code === 'UNAUTHORIZED') authRequired();
      return this.set({ lastError: answer.message });
    }
    const { id: _id, version: _version, active: _a, createdAt: _c, updatedAt: _u, ...definition } = answer.workflow;
    this.set({ connected: true, version: answer.version, server: definition as OpsDefinition, problems: answer.problems ?? [], lastError: null });
    this.flush();
  }

  /** a local edit: shown at once, sent as a patch */
  edit(ops: WorkflowOp[], inverse?: WorkflowOp[]): void {
    if (ops.length === 0) return;
    const patch: PendingPatch = { patchId: newId(), baseVersion: this.state.version, ops, inverse };
    this.set({ pending: [...this.state.pending, patch] });
    this.flush();
  }

  select(nodeId: string | null): void {
    if (this.socket.connected) this.socket.emit('workflow:select', { v: 1, workflowId: this.workflowId, nodeId });
  }

  private changed(m: { workflowId: string; version: number; ops?: WorkflowOp[]; problems?: Problem[] }): void {
    if (m.workflowId !== this.workflowId || !this.state.server || m.version <= this.state.version) return;
    if (m.ops && m.version === this.state.version + 1) {
      try {
        const server = applyOps(this.state.server, m.ops);
        this.set({ server, version: m.version, problems: m.problems ?? this.state.problems });
        return;
      } catch {
        /* fall through: reload */
      }
    }
    if (!this.inflight) void this.join();
  }

  private flush(): void {
    if (this.inflight || !this.socket.connected || !this.state.server) return;
    const patch = this.state.pending[0];
    if (!patch) return;
    this.inflight = patch;
    void this.socket
      .timeout(15_000)
      .emitWithAck('workflow:patch', { v: 1, workflowId: this.workflowId, baseVersion: patch.baseVersion || this.state.version, ops: patch.ops, patchId: patch.patchId })
      .then(
        (answer: any) => this.acknowledged(patch, answer),
        () => {
          this.inflight = null; // no answer: kept, replayed on reconnect (same patchId)
        },
      );
  }

  private acknowledged(patch: PendingPatch, answer: any): void {
    if (this.inflight !== patch) return;
    this.inflight = null;
    if (answer.code === 'UNAUTHORIZED') {
      authRequired(); // kept; sent again after the next login
      return this.set({ lastError: answer.message });
    }
    if (answer.code === 'RATE_LIMITED' || answer.code === 'INTERNAL') {
      setTimeout(() => this.flush(), 1000);
      return;
    }
    const rest = this.state.pending.filter((p) => p !== patch);
    if (!answer.ok) {
      const conflicts = [...this.state.conflicts, { patch, conflicts: answer.conflicts ?? [], message: answer.message }];
      this.set({ pending: rest, conflicts, lastError: answer.message });
      if (answer.currentVersion && answer.currentVersion !== this.state.version) void this.join();
      return this.flush();
    }
    // later patches were made on top of this one
    const later = rest.map((p) => (p.baseVersion === patch.baseVersion ? { ...p, baseVersion: answer.version } : p));
    if (answer.version === this.state.version + 1 && this.state.server) {
      this.set({ server: applyOps(this.state.server, answer.ops), version: answer.version, pending: later, problems: answer.problems ?? [], lastError: null });
    } else if (answer.version > this.state.version) {
      this.set({ pending: later, problems: answer.problems ?? [] });
      void this.join();
      return;
    } else this.set({ pending: later });
    this.flush();
  }

  /** re-sends a refused patch on top of the current version (the user chose to apply it anyway) */
  retryConflict(index: number): void {
    const c = this.state.conflicts[index];
    if (!c) return;
    const conflicts = this.state.conflicts.filter((_, i) => i !== index);
    this.set({ conflicts, pending: [...this.state.pending, { ...c.patch, patchId: newId(), baseVersion: this.state.version }] });
    this.flush();
  }

  dismissConflict(index: number): void {
    this.set({ conflicts: this.state.conflicts.filter((_, i) => i !== index) });
  }

  resume(): void {
    if (this.socket.connected) void this.join();
  }
}
