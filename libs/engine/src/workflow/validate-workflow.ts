import {
  type NodeDefinition,
  type RetryPolicy,
  expressionSyntaxError,
  isExpression,
  isTriggerNode,
  outputPortsOf,
  validateParams,
} from '@anchorflow/plugin-sdk';
import type { NodeCatalog } from '../catalog.js';
import type { CompiledEdge, CompiledGraph, CompiledNode } from './compiled-graph.js';
import { type OnError, ON_ERROR_VALUES, type ValidationProblem, type ValidationWarning, type WorkflowDefinition, type WorkflowEdge, type WorkflowNode } from './workflow.types.js';

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 1, backoffMs: 1000, factor: 2, maxBackoffMs: 60_000 };
const ID_RE = /^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,127}$/;
const PORT_RE = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isPosInt = (v: unknown, max = Number.MAX_SAFE_INTEGER) => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= max;

export type ValidationResult = { ok: true; graph: CompiledGraph } | { ok: false; problems: ValidationProblem[] };

const IDENT_RE = /^[A-Za-z_$][\w$]*$/;
const segment = (k: string | number) => (typeof k === 'number' ? `[${k}]` : IDENT_RE.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`);

/**
 * Every `=expression` in params with its JSON path. The path is built only for hits: this walk runs
 * over every param of every node of a 10,000-node graph.
 */
function expressionsIn(value: unknown, base: string): Array<[string, string]> {
  const found: Array<[string, string]> = [];
  const trail: Array<string | number> = [];
  const walk = (v: unknown): void => {
    if (typeof v === 'string') {
      if (isExpression(v)) found.push([v, base + trail.map(segment).join('')]);
    } else if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        trail.push(i);
        walk(v[i]);
        trail.pop();
      }
    } else if (v !== null && typeof v === 'object') {
      for (const k in v as Record<string, unknown>) {
        trail.push(k);
        walk((v as Record<string, unknown>)[k]);
        trail.pop();
      }
    }
  };
  walk(value);
  return found;
}

const NODE_KEYS = new Set(['id', 'type', 'params', 'position', 'retry', 'timeoutMs', 'onError', 'continueOnFail', 'notes']);
const RETRY_KEYS = new Set(['maxAttempts', 'backoffMs', 'factor', 'maxBackoffMs']);
const EDGE_KEYS = new Set(['from', 'to', 'fromPort', 'toPort']);
const WORKFLOW_KEYS = new Set(['name', 'description', 'nodes', 'edges', 'settings', 'version', 'id', 'active']);
const SETTINGS_KEYS = new Set(['errorWorkflowId']);
const WORKFLOW_ID_RE = /^[A-Za-z0-9_-]{1,128}$/;

function checkNodeOptions(n: Record<string, unknown>, base: string, problems: ValidationProblem[], nodeId?: string): void {
  const shape = (path: string, message: string) => problems.push({ code: 'INVALID_SHAPE', path, message, ...(nodeId ? { nodeId } : {}) });
  if (n.params !== undefined && !isObj(n.params)) shape(`${base}.params`, 'params must be an object');
  if (n.continueOnFail !== undefined && typeof n.continueOnFail !== 'boolean') shape(`${base}.continueOnFail`, 'continueOnFail must be a boolean');
  if (n.onError !== undefined && !ON_ERROR_VALUES.includes(n.onError as OnError)) shape(`${base}.onError`, `onError must be one of ${ON_ERROR_VALUES.join(', ')}`);
  else if (n.onError !== undefined && n.onError !== 'errorPort' && n.continueOnFail === true) {
    shape(`${base}.continueOnFail`, `continueOnFail: true means onError: "errorPort", which contradicts onError: "${n.onError}"; keep only onError`);
  }
  if (n.timeoutMs !== undefined && !(isPosInt(n.timeoutMs, 86_400_000) && (n.timeoutMs as number) > 0)) shape(`${base}.timeoutMs`, 'timeoutMs must be an integer between 1 and 86400000');
  if (n.position !== undefined && !(isObj(n.position) && Number.isFinite(n.position.x) && Number.isFinite(n.position.y))) shape(`${base}.position`, 'position must be {x: number, y: number}');
  if (n.notes !== undefined && (typeof n.notes !== 'string' || n.notes.length > 10_000)) shape(`${base}.notes`, 'notes must be a string of at most 10000 characters');
  if (n.retry !== undefined) {
    if (!isObj(n.retry)) shape(`${base}.retry`, 'retry must be an object');
    else {
      const r = n.retry;
      for (const k in r) if (!RETRY_KEYS.has(k)) shape(`${base}.retry.${k}`, `unknown retry option "${k}"`);
      if (r.maxAttempts !== undefined && !(isPosInt(r.maxAttempts, 100) && (r.maxAttempts as number) >= 1)) shape(`${base}.retry.maxAttempts`, 'maxAttempts must be an integer between 1 and 100');
      if (r.backoffMs !== undefined && !isPosInt(r.backoffMs, 86_400_000)) shape(`${base}.retry.backoffMs`, 'backoffMs must be an integer between 0 and 86400000');
      if (r.maxBackoffMs !== undefined && !isPosInt(r.maxBackoffMs, 86_400_000)) shape(`${base}.retry.maxBackoffMs`, 'maxBackoffMs must be an integer between 0 and 86400000');
      if (r.factor !== undefined && !(typeof r.factor === 'number' && r.factor >= 1 && r.factor <= 10)) shape(`${base}.retry.factor`, 'factor must be a number between 1 and 10');
    }
  }
  for (const k in n) if (!NODE_KEYS.has(k)) shape(`${base}.${k}`, `unknown node property "${k}"`);
}

/** `onError`, or the first release's `continueOnFail: true` (= errorPort); `stop` by default */
function onErrorOf(raw: Record<string, unknown>): OnError {
  if (ON_ERROR_VALUES.includes(raw.onError as OnError)) return raw.onError as OnError;
  return raw.continueOnFail === true ? 'errorPort' : 'stop';
}

/** Tarjan's strongly connected components over the nodes that Kahn could not order: each is a cycle. */
function findCycles(count: number, succ: number[][], remaining: Set<number>, ids: string[]): string[][] {
  const index = new Int32Array(count).fill(-1);
  const low = new Int32Array(count);
  const onStack = new Uint8Array(count);
  const stack: number[] = [];
  const cycles: string[][] = [];
  let next = 0;
  for (const start of remaining) {
    if (index[start] !== -1) continue;
    // iterative DFS to survive 10k-node cycles
    const work: Array<[number, number]> = [[start, 0]];
    index[start] = low[start] = next++;
    stack.push(start);
    onStack[start] = 1;
    while (work.length) {
      const top = work[work.length - 1];
      const v = top[0];
      const edges = succ[v];
      if (top[1] < edges.length) {
        const w = edges[top[1]++];
        if (!remaining.has(w)) continue;
        if (index[w] === -1) {
          index[w] = low[w] = next++;
          stack.push(w);
          onStack[w] = 1;
          work.push([w, 0]);
        } else if (onStack[w]) low[v] = Math.min(low[v], index[w]);
      } else {
        work.pop();
        if (work.length) low[work[work.length - 1][0]] = Math.min(low[work[work.length - 1][0]], low[v]);
        if (low[v] === index[v]) {
          const comp: number[] = [];
          let w: number;
          do {
            w = stack.pop()!;
            onStack[w] = 0;
            comp.push(w);
          } while (w !== v);
          if (comp.length > 1 || succ[v].includes(v)) cycles.push(comp.reverse().map((i) => ids[i]));
        }
      }
    }
  }
  return cycles;
}

/**
 * Validates a submitted workflow and compiles it. Every problem is reported at once with a JSON path
 * (and node id where one applies), so an editor can mark them all.
 */
export function validateWorkflow(input: unknown, catalog: NodeCatalog, options: { maxNodes: number }): ValidationResult {
  const problems: ValidationProblem[] = [];
  if (!isObj(input)) return { ok: false, problems: [{ code: 'INVALID_SHAPE', path: '$', message: 'a workflow must be a JSON object with name, nodes and edges' }] };
  if (typeof input.name !== 'string' || input.name.trim() === '' || input.name.length > 200) {
    problems.push({ code: 'INVALID_SHAPE', path: '$.name', message: 'name must be a non-empty string of at most 200 characters' });
  }
  if (input.description !== undefined && (typeof input.description !== 'string' || input.description.length > 10_000)) {
    problems.push({ code: 'INVALID_SHAPE', path: '$.description', message: 'description must be a string of at most 10000 characters' });
  }
  if (input.settings !== undefined) {
    if (!isObj(input.settings)) problems.push({ code: 'INVALID_SHAPE', path: '$.settings', message: 'settings must be an object' });
    else {
      for (const k in input.settings) if (!SETTINGS_KEYS.has(k)) problems.push({ code: 'INVALID_SHAPE', path: `$.settings.${k}`, message: `unknown setting "${k}"; known: errorWorkflowId` });
      const ew = input.settings.errorWorkflowId;
      if (ew !== undefined && !(typeof ew === 'string' && WORKFLOW_ID_RE.test(ew))) {
        problems.push({ code: 'INVALID_SHAPE', path: '$.settings.errorWorkflowId', message: 'errorWorkflowId must be the id of a workflow' });
      }
    }
  }
  for (const k in input) {
    if (!WORKFLOW_KEYS.has(k)) problems.push({ code: 'INVALID_SHAPE', path: `$.${k}`, message: `unknown workflow property "${k}"` });
  }
  if (!Array.isArray(input.nodes)) problems.push({ code: 'INVALID_SHAPE', path: '$.nodes', message: 'nodes must be an array' });
  if (!Array.isArray(input.edges)) problems.push({ code: 'INVALID_SHAPE', path: '$.edges', message: 'edges must be an array' });
  const rawNodes = Array.isArray(input.nodes) ? (input.nodes as unknown[]) : [];
  const rawEdges = Array.isArray(input.edges) ? (input.edges as unknown[]) : [];
  if (rawNodes.length > options.maxNodes) {
    return { ok: false, problems: [...problems, { code: 'TOO_LARGE', path: '$.nodes', message: `a workflow may have at most ${options.maxNodes} nodes (got ${rawNodes.length})` }] };
  }
  if (rawEdges.length > options.maxNodes * 4) {
    return { ok: false, problems: [...problems, { code: 'TOO_LARGE', path: '$.edges', message: `a workflow may have at most ${options.maxNodes * 4} edges (got ${rawEdges.length})` }] };
  }

  // nodes
  const nodes: CompiledNode[] = [];
  const byId = new Map<string, CompiledNode>();
  const seenIds = new Map<string, number>();
  // output ports by node index (an array: a Map keyed by node was a tenth of a 10,000-node validation)
  const portsOf: Array<string[] | undefined> = [];
  rawNodes.forEach((raw, i) => {
    const base = `$.nodes[${i}]`;
    if (!isObj(raw)) return void problems.push({ code: 'INVALID_SHAPE', path: base, message: 'a node must be an object with id and type' });
    const id = raw.id;
    const nodeId = typeof id === 'string' ? id : undefined;
    let duplicate = false;
    if (typeof id !== 'string' || !ID_RE.test(id)) {
      problems.push({ code: 'INVALID_SHAPE', path: `${base}.id`, message: 'id must be 1-128 characters of letters, digits, _ . : - (not starting with . : -)' });
    } else {
      const first = seenIds.get(id);
      if (first !== undefined) {
        duplicate = true;
        problems.push({ code: 'DUPLICATE_NODE_ID', path: `${base}.id`, nodeId: id, message: `node id "${id}" is already used by $.nodes[${first}]` });
      } else seenIds.set(id, i);
    }
    checkNodeOptions(raw, base, problems, nodeId);
    if (typeof raw.type !== 'string' || raw.type === '') {
      return void problems.push({ code: 'INVALID_SHAPE', path: `${base}.type`, message: 'type must be a node type name such as core.set', ...(nodeId ? { nodeId } : {}) });
    }
    const def: NodeDefinition | undefined = catalog.get(raw.type);
    if (!def) {
      problems.push({ code: 'UNKNOWN_NODE_TYPE', path: `${base}.type`, message: `unknown node type "${raw.type}" (no loaded plugin provides it)`, ...(nodeId ? { nodeId } : {}) });
    }
    // (a duplicate id never gets a node: the first one with that id has it, or no node has it)
    if (!nodeId || duplicate || !def) return;
    const rawParams = isObj(raw.params) ? raw.params : {};
    const { value, problems: paramProblems } = validateParams(def.params, rawParams);
    for (const p of paramProblems) problems.push({ code: 'INVALID_PARAMS', path: `${base}.params${p.path.slice(1)}`, nodeId, message: p.message });
    let dynamicParams = false;
    for (const [expr, path] of expressionsIn(rawParams, `$.nodes[${i}].params`)) {
      dynamicParams = true;
      const err = expressionSyntaxError(expr.slice(1));
      if (err) problems.push({ code: 'INVALID_EXPRESSION', path, nodeId, message: `invalid JSONata expression: ${err}` });
    }
    const retry = !def.retry && !isObj(raw.retry) ? DEFAULT_RETRY : { ...DEFAULT_RETRY, ...def.retry, ...(isObj(raw.retry) ? (raw.retry as Partial<RetryPolicy>) : {}) };
    const node: CompiledNode = {
      index: nodes.length,
      id: nodeId,
      spec: raw as unknown as WorkflowNode,
      def,
      params: dynamicParams ? rawParams : (value as Record<string, unknown>),
      dynamicParams,
      retry,
      timeoutMs: typeof raw.timeoutMs === 'number' ? raw.timeoutMs : def.timeoutMs,
      onError: onErrorOf(raw),
      pure: def.pure === true,
      trigger: isTriggerNode(def) || def.category === 'trigger',
      incoming: [],
      outgoing: [],
      predecessors: [],
      successors: [],
    };
    // static ports are known whatever the params say: an edge from a bad port is reported with them
    let ports: string[] | undefined = Array.isArray(def.outputs) ? def.outputs : undefined;
    if (!ports && paramProblems.length === 0) {
      try {
        ports = outputPortsOf(def, value);
      } catch {
        ports = undefined; // dynamic ports from params that an expression fills: checked at run time
      }
    }
    portsOf[node.index] = ports;
    nodes.push(node);
    byId.set(nodeId, node);
  });

  // edges
  const seenEdges = new Set<string>();
  rawEdges.forEach((raw, j) => {
    const base = `$.edges[${j}]`;
    if (!isObj(raw)) return void problems.push({ code: 'INVALID_SHAPE', path: base, message: 'an edge must be an object {from, to, fromPort?, toPort?}' });
    for (const k in raw) if (!EDGE_KEYS.has(k)) problems.push({ code: 'INVALID_SHAPE', path: `${base}.${k}`, message: `unknown edge property "${k}"` });
    const e = raw as Partial<WorkflowEdge>;
    let bad = false;
    // one lookup per end when it names a compiled node (the usual case), the id list only otherwise
    const from = typeof e.from === 'string' ? byId.get(e.from) : undefined;
    const to = typeof e.to === 'string' ? byId.get(e.to) : undefined;
    for (const end of ['from', 'to'] as const) {
      if ((end === 'from' ? from : to) !== undefined) continue;
      if (typeof e[end] !== 'string') {
        problems.push({ code: 'INVALID_SHAPE', path: `${base}.${end}`, message: `${end} must be a node id` });
        bad = true;
      } else if (!seenIds.has(e[end]!)) {
        problems.push({ code: 'DANGLING_EDGE', path: `${base}.${end}`, message: `edge ${end} "${e[end]}" is not a node of this workflow` });
        bad = true;
      }
    }
    for (const p of ['fromPort', 'toPort'] as const) {
      if (e[p] !== undefined && (typeof e[p] !== 'string' || !PORT_RE.test(e[p]!))) {
        problems.push({ code: 'INVALID_SHAPE', path: `${base}.${p}`, message: `${p} must be a port name` });
        bad = true;
      }
    }
    if (bad) return;
    const fromPort = e.fromPort ?? 'main';
    const toPort = e.toPort ?? 'main';
    if (!from || !to) return; // node itself invalid: already reported
    // duplicates: a scan of the source's few edges; a string set only for hubs
    let duplicate: boolean;
    if (from.outgoing.length < 32) duplicate = from.outgoing.some((x) => x.to === to.index && x.fromPort === fromPort && x.toPort === toPort);
    else {
      const key = `${e.from}\u0000${fromPort}\u0000${e.to}\u0000${toPort}`;
      duplicate = seenEdges.has(key);
      seenEdges.add(key);
      if (from.outgoing.length === 32) for (const x of from.outgoing) seenEdges.add(`${e.from}\u0000${x.fromPort}\u0000${nodes[x.to].id}\u0000${x.toPort}`);
    }
    if (duplicate) return void problems.push({ code: 'DUPLICATE_EDGE', path: base, message: `edge ${e.from}.${fromPort} → ${e.to}.${toPort} appears twice` });
    const outPorts = portsOf[from.index];
    if (fromPort === 'error') {
      if (from.onError !== 'errorPort') problems.push({ code: 'UNKNOWN_PORT', path: `${base}.fromPort`, nodeId: from.id, message: `node "${from.id}" has an "error" port only with onError: "errorPort"` });
    } else if (outPorts && !outPorts.includes(fromPort)) {
      problems.push({ code: 'UNKNOWN_PORT', path: `${base}.fromPort`, nodeId: from.id, message: `node "${from.id}" (${from.def.type}) has no output port "${fromPort}"; ports: ${[...outPorts, ...(from.onError === 'errorPort' ? ['error'] : [])].join(', ') || 'none'}` });
    }
    if (!to.def.inputs.includes(toPort)) {
      problems.push({ code: 'UNKNOWN_PORT', path: `${base}.toPort`, nodeId: to.id, message: to.def.inputs.length ? `node "${to.id}" (${to.def.type}) has no input port "${toPort}"; ports: ${to.def.inputs.join(', ')}` : `node "${to.id}" (${to.def.type}) is a trigger and takes no input` });
    }
    const edge: CompiledEdge = { from: from.index, to: to.index, fromPort, toPort };
    from.outgoing.push(edge);
    to.incoming.push(edge);
  });

  // topological order (Kahn) over distinct predecessors; leftovers are cycles
  const n = nodes.length;
  const indeg = new Int32Array(n);
  const succ: number[][] = new Array(n);
  const distinct = (xs: number[]) => (xs.length < 2 ? xs : xs.length < 16 ? xs.filter((x, i) => xs.indexOf(x) === i) : [...new Set(xs)]);
  for (const node of nodes) {
    node.successors = distinct(node.outgoing.map((e) => e.to));
    succ[node.index] = node.successors;
    node.predecessors = distinct(node.incoming.map((e) => e.from));
    indeg[node.index] = node.predecessors.length;
  }
  const order: number[] = [];
  for (let i = 0; i < n; i++) if (indeg[i] === 0) order.push(i);
  for (let h = 0; h < order.length; h++) for (const t of succ[order[h]]) if (--indeg[t] === 0) order.push(t);
  if (order.length < n) {
    const ordered = new Set(order);
    const remaining = new Set<number>();
    for (let i = 0; i < n; i++) if (!ordered.has(i)) remaining.add(i);
    const ids = nodes.map((x) => x.id);
    for (const cycle of findCycles(n, succ, remaining, ids)) {
      problems.push({ code: 'CYCLE', path: '$.edges', nodeId: cycle[0], nodes: cycle, message: `cycle: ${[...cycle, cycle[0]].join(' → ')}` });
    }
  }
  const triggers = nodes.filter((x) => x.trigger).map((x) => x.index);
  const starts = nodes.filter((x) => x.predecessors.length === 0);
  if (rawNodes.length === 0 || (nodes.length > 0 && starts.length === 0 && triggers.length === 0)) {
    problems.push({ code: 'NO_START_NODE', path: '$.nodes', message: 'a workflow needs at least one trigger or start node (a node without incoming edges)' });
  }
  if (problems.length) return { ok: false, problems };
  const warnings: ValidationWarning[] = [];
  for (const node of nodes) {
    if (node.onError === 'errorPort' && !node.outgoing.some((e) => e.fromPort === 'error')) {
      const i = rawNodes.indexOf(node.spec);
      warnings.push({
        code: 'UNUSED_ERROR_PORT', nodeId: node.id, path: `$.nodes[${i}].onError`,
        message: `node "${node.id}" sends its failures out on the "error" port, but no edge leaves that port: a failure will go unnoticed (the execution still lists it in failedNodes)`,
      });
    }
  }
  return {
    ok: true,
    graph: {
      definition: input as unknown as WorkflowDefinition,
      nodes,
      byId,
      order,
      sinks: nodes.filter((x) => x.outgoing.length === 0).map((x) => x.index),
      triggers,
      warnings,
    },
  };
}
