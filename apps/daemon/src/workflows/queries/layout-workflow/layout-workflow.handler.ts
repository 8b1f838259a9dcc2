import { Inject } from '@nestjs/common';
import { type IQueryHandler, QueryHandler } from '@nestjs/cqrs';
import dagre from '@dagrejs/dagre';
import type { RequestProblem } from '../../../common/api-error.js';
import { invalidRequest } from '../../../common/validation.js';
import type { AnchorflowConfig } from '../../../config/config.schema.js';
import { APP_CONFIG } from '../../../config/config.token.js';
import { type LaidOutGraph, LayoutWorkflowQuery } from './layout-workflow.query.js';

/** Size the editor draws a node at; dagre needs it to keep nodes apart. */
export const NODE_WIDTH = 200;
export const NODE_HEIGHT = 64;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function checkGraph(body: unknown, maxNodes: number): { nodes: Obj[]; edges: Obj[] } {
  const problems: RequestProblem[] = [];
  if (!isObj(body)) throw invalidRequest([{ path: '$', message: 'body must be an object {nodes, edges}' }]);
  const { nodes, edges } = body;
  if (!Array.isArray(nodes)) problems.push({ path: '$.nodes', message: 'nodes must be an array' });
  if (edges !== undefined && !Array.isArray(edges)) problems.push({ path: '$.edges', message: 'edges must be an array' });
  if (Array.isArray(nodes)) {
    if (nodes.length > maxNodes) problems.push({ path: '$.nodes', message: `at most ${maxNodes} nodes can be laid out` });
    const seen = new Set<string>();
    nodes.forEach((n, i) => {
      if (!isObj(n) || typeof n.id !== 'string' || n.id === '') problems.push({ path: `$.nodes[${i}].id`, message: 'each node needs a non-empty string id' });
      else if (seen.has(n.id)) problems.push({ path: `$.nodes[${i}].id`, message: `duplicate node id ${n.id}` });
      else seen.add(n.id);
    });
  }
  if (Array.isArray(edges)) {
    edges.forEach((e, i) => {
      if (!isObj(e) || typeof e.from !== 'string' || typeof e.to !== 'string') problems.push({ path: `$.edges[${i}]`, message: 'each edge needs string from and to' });
    });
  }
  if (problems.length) throw invalidRequest(problems);
  return { nodes: nodes as Obj[], edges: (edges ?? []) as Obj[] };
}

/** Pure: computes dagre positions (top-left corners, rounded) for a graph. Edges to unknown nodes are ignored. */
export function layoutGraph(body: unknown, maxNodes = 20_000): LaidOutGraph {
  const { nodes, edges } = checkGraph(body, maxNodes);
  const g = new dagre.graphlib.Graph({ multigraph: true });
  g.setGraph({ rankdir: 'LR', nodesep: 40, ranksep: 80, marginx: 20, marginy: 20 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of nodes) g.setNode(n.id as string, { width: NODE_WIDTH, height: NODE_HEIGHT });
  edges.forEach((e, i) => {
    if (g.hasNode(e.from as string) && g.hasNode(e.to as string) && e.from !== e.to) g.setEdge(e.from as string, e.to as string, {}, String(i));
  });
  dagre.layout(g);
  return {
    ...(body as Obj),
    edges,
    nodes: nodes.map((n) => {
      const p = g.node(n.id as string);
      return { ...n, id: n.id as string, position: { x: Math.round(p.x - NODE_WIDTH / 2), y: Math.round(p.y - NODE_HEIGHT / 2) } };
    }),
  };
}

@QueryHandler(LayoutWorkflowQuery)
export class LayoutWorkflowHandler implements IQueryHandler<LayoutWorkflowQuery> {
  constructor(@Inject(APP_CONFIG) private readonly config: AnchorflowConfig) {}

  async execute({ body }: LayoutWorkflowQuery): Promise<LaidOutGraph> {
    return layoutGraph(body, this.config.engine.maxNodes);
  }
}
