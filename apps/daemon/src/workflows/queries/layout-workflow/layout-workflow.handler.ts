import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { Inject } from '@nestjs/common';
import { type IQueryHandler, QueryHandler } from '@nestjs/cqrs';
import dagre from '@dagrejs/dagre';
import { ApiError, type RequestProblem } from '../../../common/api-error.js';
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

/**
 * The dagre step, as source text: the same code runs in this thread (layoutGraph) and in a worker thread
 * (layoutInWorker), where it can be killed. dagre is super-linear on dense or cyclic graphs (200 random
 * nodes: seconds), so the API never runs it on the event loop (issue 17).
 */
const POSITIONS_SOURCE = `(dagre, ids, edges, width, height) => {
  const g = new dagre.graphlib.Graph({ multigraph: true });
  g.setGraph({ rankdir: 'LR', nodesep: 40, ranksep: 80, marginx: 20, marginy: 20 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const id of ids) g.setNode(id, { width, height });
  edges.forEach(([from, to], i) => {
    if (g.hasNode(from) && g.hasNode(to) && from !== to) g.setEdge(from, to, {}, String(i));
  });
  dagre.layout(g);
  return ids.map((id) => {
    const p = g.node(id);
    return { x: Math.round(p.x - width / 2), y: Math.round(p.y - height / 2) };
  });
}`;
type Positions = (d: typeof dagre, ids: string[], edges: Array<[string, string]>, width: number, height: number) => Array<{ x: number; y: number }>;
// our own constant source, shared with the worker thread
const positionsOf = new Function(`return ${POSITIONS_SOURCE}`)() as Positions;

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const dagre = require(workerData.dagrePath);
parentPort.postMessage((${POSITIONS_SOURCE})(dagre, workerData.ids, workerData.edges, workerData.width, workerData.height));
`;

/** Largest graph the layout endpoint takes (also bounded by engine.maxNodes). */
export const LAYOUT_MAX_NODES = 2000;
export const LAYOUT_MAX_EDGES = 10_000;

function withPositions(body: unknown, nodes: Obj[], edges: Obj[], positions: Array<{ x: number; y: number }>): LaidOutGraph {
  return { ...(body as Obj), edges, nodes: nodes.map((n, i) => ({ ...n, id: n.id as string, position: positions[i]! })) };
}

const edgePairs = (edges: Obj[]) => edges.map((e) => [e.from as string, e.to as string] as [string, string]);

/**
 * layoutGraph in a worker thread, terminated after `timeoutMs` (a 422 LAYOUT_TOO_COMPLEX): however dense
 * the graph, the event loop is not blocked. Bad shapes are refused here first, as by layoutGraph.
 */
export async function layoutInWorker(body: unknown, opts: { maxNodes: number; timeoutMs: number }): Promise<LaidOutGraph> {
  const { nodes, edges } = checkGraph(body, opts.maxNodes);
  if (edges.length > LAYOUT_MAX_EDGES) throw invalidRequest([{ path: '$.edges', message: `at most ${LAYOUT_MAX_EDGES} edges can be laid out` }]);
  const dagrePath = createRequire(import.meta.url).resolve('@dagrejs/dagre');
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { dagrePath, ids: nodes.map((n) => n.id), edges: edgePairs(edges), width: NODE_WIDTH, height: NODE_HEIGHT }, resourceLimits: { maxOldGenerationSizeMb: 256 } });
  let timer: NodeJS.Timeout | undefined;
  try {
    const positions = await new Promise<Array<{ x: number; y: number }>>((resolve, reject) => {
      timer = setTimeout(() => reject(new ApiError(422, 'LAYOUT_TOO_COMPLEX', `laying out this graph took longer than ${opts.timeoutMs} ms; lay out fewer nodes or edges`, { nodes: nodes.length, edges: edges.length })), opts.timeoutMs);
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new ApiError(422, 'LAYOUT_TOO_COMPLEX', `layout stopped (exit ${code}): the graph is too large to lay out`)));
    });
    return withPositions(body, nodes, edges, positions);
  } finally {
    clearTimeout(timer);
    void worker.terminate();
  }
}

/** Pure: computes dagre positions (top-left corners, rounded) for a graph. Edges to unknown nodes are ignored. */
export function layoutGraph(body: unknown, maxNodes = 20_000): LaidOutGraph {
  const { nodes, edges } = checkGraph(body, maxNodes);
  return withPositions(body, nodes, edges, positionsOf(dagre, nodes.map((n) => n.id as string), edgePairs(edges), NODE_WIDTH, NODE_HEIGHT));
}

/** Layouts running at once in this process; more get 429 (layout is CPU-heavy, the API is not). */
export const LAYOUT_CONCURRENCY = 2;
/** A layout taking longer than this is stopped (422 LAYOUT_TOO_COMPLEX). */
export const LAYOUT_TIMEOUT_MS = 5000;

@QueryHandler(LayoutWorkflowQuery)
export class LayoutWorkflowHandler implements IQueryHandler<LayoutWorkflowQuery> {
  constructor(@Inject(APP_CONFIG) private readonly config: AnchorflowConfig) {}

  private running = 0;

  async execute({ body }: LayoutWorkflowQuery): Promise<LaidOutGraph> {
    if (this.running >= LAYOUT_CONCURRENCY) throw new ApiError(429, 'TOO_MANY_REQUESTS', `${LAYOUT_CONCURRENCY} layouts are running already; try again shortly`, { retryAfterSeconds: 1 });
    this.running++;
    try {
      return await layoutInWorker(body, { maxNodes: Math.min(this.config.engine.maxNodes, LAYOUT_MAX_NODES), timeoutMs: LAYOUT_TIMEOUT_MS });
    } finally {
      this.running--;
    }
  }
}
