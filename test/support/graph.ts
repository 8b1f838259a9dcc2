/** Terse builders for workflow JSON in tests. */
import { randomBytes } from 'node:crypto';
import type { WorkflowEdgeJson, WorkflowJson, WorkflowNodeJson } from './api.js';

export function node(id: string, type: string, params: Record<string, unknown> = {}, options: Omit<WorkflowNodeJson, 'id' | 'type' | 'params'> = {}): WorkflowNodeJson {
  return { id, type, params, ...options };
}

export const manual = (id = 'start'): WorkflowNodeJson => node(id, 'core.trigger.manual');

/** `edge('a', 'b')`, or from a named port: `edge('check', 'big', 'true')` */
export function edge(from: string, to: string, fromPort?: string): WorkflowEdgeJson {
  return fromPort === undefined ? { from, to } : { from, to, fromPort };
}

/** edges a→b→c… along the given ids */
export function chain(...ids: string[]): WorkflowEdgeJson[] {
  return ids.slice(1).map((id, i) => edge(ids[i]!, id));
}

export function workflow(name: string, nodes: WorkflowNodeJson[], edges: WorkflowEdgeJson[]): WorkflowJson {
  return { name, nodes, edges };
}

/** a short random suffix for names and webhook paths that must be unique */
export function uid(): string {
  return randomBytes(4).toString('hex');
}
