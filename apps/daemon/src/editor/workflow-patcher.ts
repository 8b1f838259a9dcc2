import { EngineError, type StoredWorkflow, type ValidationProblem, type WorkflowDefinition, type WorkflowRepository } from '@anchorflow/engine';
import type { PluginState } from '@anchorflow/plugin-sdk';
import { WorkflowChangedEvent } from '../workflows/events/workflow-changed.event.js';
import type { EventPublisher, WorkflowTriggers, WorkflowValidator } from '../workflows/workflow-ports.js';
import { applyOps, type Conflict, InvalidOpError, type OpsDefinition, opsBetween, rebase, type WorkflowOp } from './workflow-ops.js';

/** plugin-state namespace of the editor: the patch history (who changed what) and patch ids already applied */
export const EDITOR_STATE_PLUGIN = '@anchorflow/editor';

export interface PatchRequest {
  workflowId: string;
  baseVersion: number;
  ops: WorkflowOp[];
  /** `key:<api key id>` */
  by: string;
  /** the client's id for this patch: a patch replayed after a lost acknowledgement is answered, not applied twice */
  patchId?: string;
}

export type PatchResult =
  | { ok: true; workflowId: string; version: number; ops: WorkflowOp[]; problems: ValidationProblem[]; replayed?: boolean; rebasedFrom?: number }
  | { ok: false; code: 'CONFLICT'; workflowId: string; currentVersion: number; conflicts: Conflict[]; message: string }
  | { ok: false; code: 'INVALID_OPS' | 'NOT_FOUND' | 'VALIDATION_FAILED'; workflowId: string; message: string; currentVersion?: number; problems?: unknown[] };

export interface HistoryEntry {
  version: number;
  /** `key:<id>`, or null for versions made through the REST API */
  by: string | null;
  at: string;
  ops: WorkflowOp[];
}

const pad = (v: number) => String(v).padStart(10, '0');

/**
 * Applies editor patches to stored workflows: on the current version directly, on an older one after a
 * rebase (workflow-ops.ts). Patches of one workflow are serialised in this daemon; another daemon racing
 * for the same version loses the optimistic update and is rebased again. A draft may be invalid (a node
 * just added has no params yet): its problems travel with the answer; only an active workflow must stay
 * valid. Each accepted patch is recorded in the history with who sent it.
 */
export class WorkflowPatcher {
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(
    private readonly workflows: WorkflowRepository,
    private readonly validator: WorkflowValidator,
    private readonly triggers: Pick<WorkflowTriggers, 'assertCanActivate' | 'apply'>,
    private readonly events: EventPublisher,
    private readonly state: PluginState,
    private readonly now: () => number = Date.now,
    /** called with each applied patch just before the WorkflowChangedEvent is published */
    private readonly onApplied: (applied: { workflowId: string; version: number }) => void = () => undefined,
  ) {}

  patch(req: PatchRequest): Promise<PatchResult> {
    const previous = this.queues.get(req.workflowId) ?? Promise.resolve();
    const next = previous.then(() => this.apply(req), () => this.apply(req));
    this.queues.set(req.workflowId, next);
    void next.finally(() => {
      if (this.queues.get(req.workflowId) === next) this.queues.delete(req.workflowId);
    }).catch(() => undefined);
    return next;
  }

  private async apply(req: PatchRequest): Promise<PatchResult> {
    const { workflowId } = req;
    if (req.patchId) {
      const done = await this.state.get<{ version: number; ops: WorkflowOp[] }>(`patch/${workflowId}/${req.patchId}`);
      if (done) return { ok: true, workflowId, version: done.version, ops: done.ops, problems: [], replayed: true };
    }
    for (let attempt = 0; ; attempt++) {
      const current = await this.workflows.get(workflowId);
      if (!current) return { ok: false, code: 'NOT_FOUND', workflowId, message: `workflow ${workflowId} not found` };
      if (req.baseVersion > current.version) {
        return { ok: false, code: 'INVALID_OPS', workflowId, currentVersion: current.version, message: `baseVersion ${req.baseVersion} is newer than the workflow (version ${current.version})` };
      }
      let ops = req.ops;
      let definition: OpsDefinition;
      try {
        if (req.baseVersion === current.version) definition = applyOps(current.definition as unknown as OpsDefinition, ops);
        else {
          const base = await this.workflows.get(workflowId, req.baseVersion);
          if (!base) return { ok: false, code: 'INVALID_OPS', workflowId, currentVersion: current.version, message: `version ${req.baseVersion} of workflow ${workflowId} does not exist` };
          const r = rebase(base.definition as unknown as OpsDefinition, current.definition as unknown as OpsDefinition, ops);
          if (!r.ok) {
            return {
              ok: false, code: 'CONFLICT', workflowId, currentVersion: current.version, conflicts: r.conflicts,
              message: `${r.conflicts.length} op${r.conflicts.length === 1 ? '' : 's'} conflict with changes made since version ${req.baseVersion}: ${r.conflicts.map((c) => `ops[${c.index}]: ${c.reason}`).join('; ')}`,
            };
          }
          ops = r.ops;
          definition = r.definition;
        }
      } catch (err) {
        if (err instanceof InvalidOpError) return { ok: false, code: 'INVALID_OPS', workflowId, currentVersion: current.version, message: err.message };
        throw err;
      }
      const problems = this.validator.validate(definition);
      if (current.active && problems.length) {
        return { ok: false, code: 'VALIDATION_FAILED', workflowId, currentVersion: current.version, problems, message: `workflow ${workflowId} is active and must stay valid: ${problems.slice(0, 3).map((p) => `${p.path}: ${p.message}`).join('; ')}` };
      }
      if (ops.length === 0) return { ok: true, workflowId, version: current.version, ops, problems, rebasedFrom: req.baseVersion };
      let updated: StoredWorkflow;
      if (current.active) this.triggers.assertCanActivate({ id: workflowId, definition: definition as unknown as WorkflowDefinition });
      try {
        updated = await this.workflows.update(workflowId, current.version, definition as unknown as WorkflowDefinition);
      } catch (err) {
        // another daemon stored a version in between: rebase onto it (bounded)
        if (err instanceof EngineError && err.code === 'CONFLICT' && attempt < 5) continue;
        throw err;
      }
      if (updated.active) await this.triggers.apply(updated);
      await this.state.set(`history/${workflowId}/${pad(updated.version)}`, { version: updated.version, by: req.by, at: new Date(this.now()).toISOString(), ops } satisfies HistoryEntry);
      if (req.patchId) await this.state.set(`patch/${workflowId}/${req.patchId}`, { version: updated.version, ops });
      this.onApplied({ workflowId, version: updated.version });
      this.events.publish(new WorkflowChangedEvent(updated.id, updated.version, 'updated'));
      return { ok: true, workflowId, version: updated.version, ops, problems, ...(req.baseVersion !== current.version ? { rebasedFrom: req.baseVersion } : {}) };
    }
  }

  /**
   * The last `limit` versions, newest first: who made each and its ops. Versions made through the REST
   * API (no patch recorded) get their ops from the difference to the version before, and `by: null`.
   */
  async history(workflowId: string, limit = 50): Promise<HistoryEntry[] | undefined> {
    const current = await this.workflows.get(workflowId);
    if (!current) return undefined;
    const first = Math.max(1, current.version - limit + 1);
    const recorded = new Map(
      (await this.state.list<HistoryEntry>(`history/${workflowId}/`, { after: `history/${workflowId}/${pad(first - 1)}`, limit })).map((r) => [r.value.version, r.value]),
    );
    const out: HistoryEntry[] = [];
    for (let v = current.version; v >= first; v--) {
      const stored = v === current.version ? current : await this.workflows.get(workflowId, v);
      if (!stored) continue;
      const entry = recorded.get(v);
      if (entry) out.push(entry);
      else {
        const older = v > 1 ? await this.workflows.get(workflowId, v - 1) : undefined;
        out.push({ version: v, by: null, at: stored.updatedAt, ops: older ? opsBetween(older.definition as unknown as OpsDefinition, stored.definition as unknown as OpsDefinition) : [] });
      }
    }
    return out;
  }
}
