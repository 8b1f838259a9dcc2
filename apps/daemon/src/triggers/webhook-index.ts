import type { WorkflowDefinition } from '@anchorflow/engine';
import { type NodeDefinition, type WebhookCapability, type WebhookExposure, validateParams } from '@anchorflow/plugin-sdk';

/** Finds a node type's definition (the engine's catalog). */
export type NodeTypeLookup = (type: string) => NodeDefinition | undefined;

/** Everything needed to start an execution for a webhook call without touching the database. */
export interface WebhookRoute {
  workflowId: string;
  version: number;
  definition: WorkflowDefinition;
  nodeId: string;
  path: string;
  method: string;
  respond: 'immediately' | 'lastNode';
  /** who may call (the node type's route says; default public) */
  exposure: WebhookExposure;
  maxBodyBytes?: number;
  rateLimit?: { limit: number; windowMs: number };
  /** the node's params with its type's defaults applied */
  params: Record<string, unknown>;
  /** the node type's webhook capability (verify, request → input) */
  capability: WebhookCapability;
}

export type WebhookMatch =
  | { route: WebhookRoute }
  | { error: 'NOT_FOUND' }
  | { error: 'METHOD_NOT_ALLOWED'; allowed: string[] };

export interface WebhookConflict {
  path: string;
  method: string;
  nodeId: string;
  /** the workflow already listening there (may be the same one for a duplicate inside one graph) */
  takenBy: { workflowId: string; nodeId: string };
}

/** `/orders/new/` → `orders/new` */
export function normalizeHookPath(path: string): string {
  let start = 0;
  let end = path.length;
  while (start < end && path.charCodeAt(start) === 47) start++;
  while (end > start && path.charCodeAt(end - 1) === 47) end--;
  return path.slice(start, end);
}

/**
 * The routes of a workflow version: one per node whose type declares a webhook capability, where the
 * capability says (from the node's params, defaults applied).
 */
export function webhookRoutesOf(workflow: { id: string; version: number; definition: WorkflowDefinition }, nodeTypes: NodeTypeLookup): WebhookRoute[] {
  const routes: WebhookRoute[] = [];
  for (const node of workflow.definition.nodes ?? []) {
    const def = nodeTypes(node.type);
    const capability = def?.webhook;
    if (!capability) continue;
    const params = validateParams(def.params, node.params ?? {}).value as Record<string, unknown>;
    const route = capability.route(params);
    if (!route) continue;
    routes.push({
      workflowId: workflow.id,
      version: workflow.version,
      definition: workflow.definition,
      nodeId: node.id,
      path: normalizeHookPath(route.path),
      method: route.method.toUpperCase(),
      respond: route.respond,
      exposure: route.exposure ?? 'public',
      ...(route.maxBodyBytes !== undefined ? { maxBodyBytes: route.maxBodyBytes } : {}),
      ...(route.rateLimit !== undefined ? { rateLimit: route.rateLimit } : {}),
      params,
      capability,
    });
  }
  return routes;
}

/**
 * In-memory routing table of active webhook triggers: path → method → route. Rebuilt for a workflow
 * whenever it is activated, deactivated, updated or deleted, and at start-up; so the hot path never
 * reads the database to find its workflow.
 */
export class WebhookIndex {
  private readonly byPath = new Map<string, Map<string, WebhookRoute>>();
  private readonly byWorkflow = new Map<string, WebhookRoute[]>();

  constructor(private readonly nodeTypes: NodeTypeLookup) {}

  /** Routes of an active workflow replace its previous ones; an inactive one is removed. */
  set(workflow: { id: string; version: number; active: boolean; definition: WorkflowDefinition }): void {
    this.remove(workflow.id);
    if (!workflow.active) return;
    const routes = webhookRoutesOf(workflow, this.nodeTypes);
    const kept: WebhookRoute[] = [];
    for (const route of routes) {
      let methods = this.byPath.get(route.path);
      if (!methods) this.byPath.set(route.path, (methods = new Map()));
      if (methods.has(route.method)) continue; // first one wins; activation checks conflicts beforehand
      methods.set(route.method, route);
      kept.push(route);
    }
    if (kept.length) this.byWorkflow.set(workflow.id, kept);
  }

  remove(workflowId: string): void {
    const routes = this.byWorkflow.get(workflowId);
    if (!routes) return;
    this.byWorkflow.delete(workflowId);
    for (const route of routes) {
      const methods = this.byPath.get(route.path);
      if (methods?.get(route.method) === route) methods.delete(route.method);
      if (methods && methods.size === 0) this.byPath.delete(route.path);
    }
  }

  /** Webhook routes of this workflow that another active workflow (or another node of it) already uses. */
  conflicts(workflow: { id: string; definition: WorkflowDefinition }): WebhookConflict[] {
    const out: WebhookConflict[] = [];
    const own = new Map<string, string>();
    for (const route of webhookRoutesOf({ ...workflow, version: 0 }, this.nodeTypes)) {
      const key = `${route.method} ${route.path}`;
      const sameGraph = own.get(key);
      if (sameGraph !== undefined) {
        out.push({ path: route.path, method: route.method, nodeId: route.nodeId, takenBy: { workflowId: workflow.id, nodeId: sameGraph } });
        continue;
      }
      own.set(key, route.nodeId);
      const existing = this.byPath.get(route.path)?.get(route.method);
      if (existing && existing.workflowId !== workflow.id) {
        out.push({ path: route.path, method: route.method, nodeId: route.nodeId, takenBy: { workflowId: existing.workflowId, nodeId: existing.nodeId } });
      }
    }
    return out;
  }

  match(path: string, method: string): WebhookMatch {
    const methods = this.byPath.get(path) ?? this.byPath.get(normalizeHookPath(path));
    if (!methods) return { error: 'NOT_FOUND' };
    const route = methods.get(method) ?? (method === 'HEAD' ? methods.get('GET') : undefined);
    if (route) return { route };
    return { error: 'METHOD_NOT_ALLOWED', allowed: [...methods.keys()].sort() };
  }

  get size(): number {
    let n = 0;
    for (const methods of this.byPath.values()) n += methods.size;
    return n;
  }
}
