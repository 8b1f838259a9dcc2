import type { StoredWorkflow, ValidationWarning, WorkflowDefinition, WorkflowSummary } from '@anchorflow/engine';

/**
 * A workflow as the API shows it: the definition's fields at the top level, beside id/version/active.
 * Create and update answers add `warnings` (valid but probably not meant) when there are any.
 */
export type WorkflowDto = { id: string; version: number; active: boolean; createdAt: string; updatedAt: string; warnings?: ValidationWarning[] } & WorkflowDefinition;

export function toWorkflowDto(w: StoredWorkflow): WorkflowDto {
  return { id: w.id, version: w.version, active: w.active, ...w.definition, createdAt: w.createdAt, updatedAt: w.updatedAt };
}

export function toWorkflowSummaryDto(w: WorkflowSummary): WorkflowSummary {
  return { id: w.id, name: w.name, version: w.version, active: w.active, nodeCount: w.nodeCount, createdAt: w.createdAt, updatedAt: w.updatedAt };
}

/** Fields the server manages; a body copied from a GET may carry them, they are not part of the graph. */
const SERVER_FIELDS = ['id', 'version', 'active', 'createdAt', 'updatedAt', 'warnings'] as const;

/** The submitted body without server-managed fields; everything else goes to validation as it is. */
export function definitionFromBody(body: unknown): unknown {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return body;
  const copy: Record<string, unknown> = { ...(body as Record<string, unknown>) };
  for (const f of SERVER_FIELDS) delete copy[f];
  return copy;
}
