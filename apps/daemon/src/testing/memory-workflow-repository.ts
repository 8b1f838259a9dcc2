import { randomUUID } from 'node:crypto';
import { EngineError, type Page, type StoredWorkflow, type WorkflowDefinition, type WorkflowRepository, type WorkflowSummary } from '@anchorflow/engine';

/** In-memory WorkflowRepository with the real one's semantics (versions, optimistic update, soft delete). */
export class MemoryWorkflowRepository implements WorkflowRepository {
  private readonly versions = new Map<string, StoredWorkflow[]>();
  private readonly deleted = new Set<string>();
  private tick = Date.parse('2026-01-01T00:00:00Z');

  private now(): string {
    return new Date((this.tick += 1000)).toISOString();
  }

  private latest(id: string): StoredWorkflow | undefined {
    if (this.deleted.has(id)) return undefined;
    return this.versions.get(id)?.at(-1);
  }

  async create(definition: WorkflowDefinition): Promise<StoredWorkflow> {
    const at = this.now();
    const stored: StoredWorkflow = { id: randomUUID(), name: definition.name, version: 1, active: false, definition: structuredClone(definition), createdAt: at, updatedAt: at };
    this.versions.set(stored.id, [stored]);
    return structuredClone(stored);
  }

  async get(id: string, version?: number): Promise<StoredWorkflow | undefined> {
    const latest = this.latest(id);
    if (!latest) return undefined;
    const found = version === undefined ? latest : this.versions.get(id)!.find((v) => v.version === version);
    return found ? structuredClone({ ...found, active: latest.active }) : undefined;
  }

  async latestVersion(workflowId: string): Promise<number | undefined> {
    return this.latest(workflowId)?.version;
  }

  async getVersion(workflowId: string, version: number): Promise<WorkflowDefinition | undefined> {
    return this.versions.get(workflowId)?.find((v) => v.version === version)?.definition;
  }

  async list(query: { limit: number; cursor?: string; active?: boolean }): Promise<Page<WorkflowSummary>> {
    const all = [...this.versions.keys()]
      .map((id) => this.latest(id))
      .filter((w): w is StoredWorkflow => !!w && (query.active === undefined || w.active === query.active));
    const start = query.cursor ? Number(query.cursor) : 0;
    const items = all.slice(start, start + query.limit).map(({ definition, ...rest }) => ({ ...rest, nodeCount: definition.nodes.length }));
    return { items, ...(start + query.limit < all.length ? { nextCursor: String(start + query.limit) } : {}) };
  }

  async update(id: string, expectedVersion: number, definition: WorkflowDefinition): Promise<StoredWorkflow> {
    const latest = this.latest(id);
    if (!latest) throw new EngineError('NOT_FOUND', `workflow ${id} not found`);
    if (latest.version !== expectedVersion) throw new EngineError('CONFLICT', `workflow ${id} is at version ${latest.version}`);
    const next: StoredWorkflow = { ...latest, name: definition.name, version: latest.version + 1, definition: structuredClone(definition), updatedAt: this.now() };
    this.versions.get(id)!.push(next);
    return structuredClone(next);
  }

  async delete(id: string): Promise<boolean> {
    if (!this.latest(id)) return false;
    this.deleted.add(id);
    return true;
  }

  async setActive(id: string, active: boolean): Promise<StoredWorkflow> {
    const latest = this.latest(id);
    if (!latest) throw new EngineError('NOT_FOUND', `workflow ${id} not found`);
    latest.active = active;
    latest.updatedAt = this.now();
    return structuredClone(latest);
  }

  async listActive(): Promise<StoredWorkflow[]> {
    return [...this.versions.keys()].map((id) => this.latest(id)).filter((w): w is StoredWorkflow => !!w?.active).map((w) => structuredClone(w));
  }
}
