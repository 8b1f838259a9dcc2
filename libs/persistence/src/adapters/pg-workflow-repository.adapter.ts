import { randomUUID } from 'node:crypto';
import {
  EngineError, type Page, type StoredWorkflow, type WorkflowDefinition, type WorkflowRepository, type WorkflowSummary,
} from '@anchorflow/engine';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { WorkflowVersionEntity } from '../entities/workflow-version.entity.js';
import { WorkflowEntity } from '../entities/workflow.entity.js';
import { clampLimit, decodeCursor, encodeCursor, fromMicros, micros } from '../internal/cursor.js';
import { isUuid } from './execution-rows.js';

interface WorkflowRow {
  id: string;
  name: string;
  current_version: number;
  active: boolean;
  created_ms: number;
  updated_ms: number;
  created_us: string;
  node_count?: number;
  definition?: WorkflowDefinition;
}

const LATEST = `FROM workflow w JOIN workflow_version v ON v.workflow_id = w.id AND v.version = w.current_version`;
const ROW_COLUMNS = `w.id, w.name, w.current_version, w.active,
  (extract(epoch from w.created_at) * 1000)::float8 AS created_ms, (extract(epoch from w.updated_at) * 1000)::float8 AS updated_ms,
  ${micros('w.created_at')} AS created_us`;

/**
 * Workflows and their immutable versions through MikroORM. A new version is accepted only if the
 * caller saw the current one: the version bump is a conditional UPDATE, so of two concurrent updates
 * from the same version the second waits for the first's row lock, re-checks, and gets CONFLICT.
 */
export class PgWorkflowRepository implements WorkflowRepository {
  private readonly orm: MikroORM;

  constructor(db: { orm: MikroORM }) {
    this.orm = db.orm;
  }

  private em(): EntityManager {
    return this.orm.em.fork();
  }

  async create(definition: WorkflowDefinition): Promise<StoredWorkflow> {
    const em = this.em();
    const now = new Date();
    const workflow = em.create(WorkflowEntity, {
      id: randomUUID(), name: definition.name, currentVersion: 1, active: false, createdAt: now, updatedAt: now,
    });
    em.create(WorkflowVersionEntity, { workflow, version: 1, definition, createdAt: now });
    await em.flush();
    return toStored(workflow, 1, definition);
  }

  async get(id: string, version?: number): Promise<StoredWorkflow | undefined> {
    if (!isUuid(id)) return undefined;
    const em = this.em();
    const workflow = await em.findOne(WorkflowEntity, { id, deletedAt: null });
    if (!workflow) return undefined;
    const wanted = version ?? workflow.currentVersion;
    const stored = await em.findOne(WorkflowVersionEntity, { workflow: id, version: wanted });
    return stored ? toStored(workflow, wanted, stored.definition) : undefined;
  }

  /** the current version of a workflow that is not deleted (sub-workflows and error workflows start it) */
  async latestVersion(workflowId: string): Promise<number | undefined> {
    if (!isUuid(workflowId)) return undefined;
    const workflow = await this.em().findOne(WorkflowEntity, { id: workflowId, deletedAt: null });
    return workflow?.currentVersion;
  }

  /** deleted workflows included: executions keep running the version they started with */
  async getVersion(workflowId: string, version: number): Promise<WorkflowDefinition | undefined> {
    if (!isUuid(workflowId)) return undefined;
    const stored = await this.em().findOne(WorkflowVersionEntity, { workflow: workflowId, version });
    return stored?.definition;
  }

  /** oldest first (created_at, then id) */
  async list(query: { limit: number; cursor?: string; active?: boolean }): Promise<Page<WorkflowSummary>> {
    const limit = clampLimit(query.limit);
    const where = ['w.deleted_at IS NULL'];
    const values: unknown[] = [];
    if (query.active !== undefined) {
      values.push(query.active);
      where.push(`w.active = ?`);
    }
    if (query.cursor !== undefined) {
      const key = decodeCursor(query.cursor);
      values.push(key.us, key.id);
      where.push(`(w.created_at, w.id) > (${fromMicros('?')}, ?::uuid)`);
    }
    values.push(limit + 1);
    const rows = await this.em().getConnection().execute<WorkflowRow[]>(
      `SELECT ${ROW_COLUMNS}, jsonb_array_length(coalesce(v.definition->'nodes', '[]')) AS node_count ${LATEST}
       WHERE ${where.join(' AND ')} ORDER BY w.created_at, w.id LIMIT ?`,
      values);
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map((row) => ({ ...fromRow(row), nodeCount: Number(row.node_count) })),
      ...(rows.length > limit && last ? { nextCursor: encodeCursor({ us: last.created_us, id: last.id }) } : {}),
    };
  }

  async update(id: string, expectedVersion: number, definition: WorkflowDefinition): Promise<StoredWorkflow> {
    if (!isUuid(id)) throw notFound(id);
    return this.em().transactional(async (em) => {
      const now = new Date();
      const bumped = await em.nativeUpdate(
        WorkflowEntity,
        { id, deletedAt: null, currentVersion: expectedVersion },
        { currentVersion: expectedVersion + 1, name: definition.name, updatedAt: now },
      );
      if (bumped === 0) {
        const current = await em.findOne(WorkflowEntity, { id, deletedAt: null }, { refresh: true });
        if (!current) throw notFound(id);
        throw new EngineError('CONFLICT', `workflow ${id} is at version ${current.currentVersion}, not ${expectedVersion}`,
          { expectedVersion, currentVersion: current.currentVersion });
      }
      em.create(WorkflowVersionEntity, {
        workflow: em.getReference(WorkflowEntity, id), version: expectedVersion + 1, definition, createdAt: now,
      });
      await em.flush();
      const workflow = await em.findOneOrFail(WorkflowEntity, { id }, { refresh: true });
      return toStored(workflow, expectedVersion + 1, definition);
    });
  }

  async delete(id: string): Promise<boolean> {
    if (!isUuid(id)) return false;
    const now = new Date();
    const deleted = await this.em().nativeUpdate(WorkflowEntity, { id, deletedAt: null }, { deletedAt: now, active: false, updatedAt: now });
    return deleted > 0;
  }

  async setActive(id: string, active: boolean): Promise<StoredWorkflow> {
    if (!isUuid(id)) throw notFound(id);
    const changed = await this.em().nativeUpdate(WorkflowEntity, { id, deletedAt: null }, { active, updatedAt: new Date() });
    const stored = changed > 0 ? await this.get(id) : undefined;
    if (!stored) throw notFound(id);
    return stored;
  }

  async listActive(): Promise<StoredWorkflow[]> {
    const rows = await this.em().getConnection().execute<WorkflowRow[]>(
      `SELECT ${ROW_COLUMNS}, v.definition ${LATEST} WHERE w.active AND w.deleted_at IS NULL ORDER BY w.created_at, w.id`);
    return rows.map((row) => ({ ...fromRow(row), definition: row.definition! }));
  }
}

function notFound(id: string): EngineError {
  return new EngineError('NOT_FOUND', `workflow ${id} not found`, { workflowId: id });
}

function toStored(workflow: WorkflowEntity, version: number, definition: WorkflowDefinition): StoredWorkflow {
  return {
    id: workflow.id,
    name: version === workflow.currentVersion ? workflow.name : definition.name,
    version,
    active: workflow.active,
    definition,
    createdAt: workflow.createdAt.toISOString(),
    updatedAt: workflow.updatedAt.toISOString(),
  };
}

function fromRow(row: WorkflowRow): Omit<StoredWorkflow, 'definition'> {
  return {
    id: row.id,
    name: row.name,
    version: row.current_version,
    active: row.active,
    createdAt: new Date(Math.round(row.created_ms)).toISOString(),
    updatedAt: new Date(Math.round(row.updated_ms)).toISOString(),
  };
}
