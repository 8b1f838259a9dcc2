/**
 * Workflow patches: the edit operations the editor sends over the socket (`workflow:patch`), applying
 * them to a definition, and rebasing a patch made on an older version onto the current one.
 *
 * Plain functions over plain data (no Nest, no socket.io, no I/O): the gateway wires them, the built-in
 * editor (apps/editor) imports the same file to apply its own and others' ops locally.
 *
 * Rebase is a three-way merge: `base` (the version the client edited), `current` (the stored latest) and
 * the client's ops. What changed between base and current is computed by diffing the two definitions
 * (so changes made through the REST API count as much as other patches). A client op is rebased when it
 * touches nothing that changed; it conflicts when it touches the same thing: the same node's same param,
 * the same node's position or options, a node (or an edge's end) removed since, a node id added twice,
 * the workflow's name renamed twice. Conflicts are reported, never resolved silently (no last-write-wins).
 */

export interface OpsNode {
  id: string;
  type: string;
  params?: Record<string, unknown>;
  position?: { x: number; y: number };
  [option: string]: unknown;
}

export interface OpsEdge {
  from: string;
  to: string;
  fromPort?: string;
  toPort?: string;
}

export interface OpsDefinition {
  name: string;
  description?: string;
  nodes: OpsNode[];
  edges: OpsEdge[];
  [field: string]: unknown;
}

/** Node options a patch may set beside params (ARCHITECTURE §3); `type`, `id` and `position` have their own ops. */
export const NODE_OPTIONS = ['retry', 'timeoutMs', 'continueOnFail', 'onError', 'notes'] as const;

export type WorkflowOp =
  | { op: 'addNode'; node: OpsNode }
  | { op: 'removeNode'; id: string }
  | { op: 'moveNode'; id: string; position: { x: number; y: number } }
  /** sets the given params (a `null` value removes that param); other params stay */
  | { op: 'setParams'; id: string; params: Record<string, unknown> }
  /** sets node options (retry, timeoutMs, continueOnFail, onError, notes); `null` removes one */
  | { op: 'setOptions'; id: string; options: Record<string, unknown> }
  | { op: 'connect'; edge: OpsEdge }
  | { op: 'disconnect'; edge: OpsEdge }
  /** renames the workflow */
  | { op: 'rename'; name: string };

export type OpName = WorkflowOp['op'];
export const OP_NAMES: readonly OpName[] = ['addNode', 'removeNode', 'moveNode', 'setParams', 'setOptions', 'connect', 'disconnect', 'rename'];

export const MAX_OPS_PER_PATCH = 500;
const ID_RE = /^[A-Za-z0-9_-]{1,128}$/;
const PORT_RE = /^[A-Za-z0-9_-]{1,64}$/;

/** An op that cannot be applied (bad shape, unknown node, duplicate id): the patch is refused as a whole. */
export class InvalidOpError extends Error {
  constructor(
    readonly index: number,
    message: string,
  ) {
    super(`ops[${index}]: ${message}`);
    this.name = 'InvalidOpError';
  }
}

export function edgeKey(e: OpsEdge): string {
  return `${e.from}:${e.fromPort ?? 'main'}->${e.to}:${e.toPort ?? 'main'}`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isPosition(v: unknown): v is { x: number; y: number } {
  return isObject(v) && Number.isFinite(v.x) && Number.isFinite(v.y) && Object.keys(v).length === 2;
}

function checkEdge(e: unknown, at: string): string | undefined {
  if (!isObject(e)) return `${at} must be an object {from, to, fromPort?, toPort?}`;
  if (typeof e.from !== 'string' || !ID_RE.test(e.from)) return `${at}.from must be a node id`;
  if (typeof e.to !== 'string' || !ID_RE.test(e.to)) return `${at}.to must be a node id`;
  for (const p of ['fromPort', 'toPort'] as const) if (e[p] !== undefined && (typeof e[p] !== 'string' || !PORT_RE.test(e[p]))) return `${at}.${p} must be a port name`;
  for (const k of Object.keys(e)) if (!['from', 'to', 'fromPort', 'toPort'].includes(k)) return `${at}.${k} is not an edge field`;
  return undefined;
}

/** Shape check of a patch's ops; returns one message per problem (empty: well-formed). */
export function checkOps(ops: unknown): string[] {
  if (!Array.isArray(ops)) return ['ops must be an array'];
  if (ops.length === 0) return ['ops must not be empty'];
  if (ops.length > MAX_OPS_PER_PATCH) return [`ops may hold at most ${MAX_OPS_PER_PATCH} operations`];
  const problems: string[] = [];
  ops.forEach((op: unknown, i) => {
    const at = `ops[${i}]`;
    if (!isObject(op)) return problems.push(`${at} must be an object`);
    const name = op.op;
    if (!OP_NAMES.includes(name as OpName)) return problems.push(`${at}.op must be one of ${OP_NAMES.join(', ')}`);
    const allowed: Record<OpName, string[]> = {
      addNode: ['node'], removeNode: ['id'], moveNode: ['id', 'position'], setParams: ['id', 'params'], setOptions: ['id', 'options'],
      connect: ['edge'], disconnect: ['edge'], rename: ['name'],
    };
    for (const k of Object.keys(op)) if (k !== 'op' && !allowed[name as OpName].includes(k)) problems.push(`${at}.${k} is not a field of ${String(name)}`);
    if ('id' in op || allowed[name as OpName].includes('id')) {
      if (typeof op.id !== 'string' || !ID_RE.test(op.id)) problems.push(`${at}.id must be a node id (letters, digits, _ and -)`);
    }
    switch (name) {
      case 'addNode': {
        const n = op.node;
        if (!isObject(n)) problems.push(`${at}.node must be an object {id, type, params?, position?}`);
        else {
          if (typeof n.id !== 'string' || !ID_RE.test(n.id)) problems.push(`${at}.node.id must be a node id (letters, digits, _ and -)`);
          if (typeof n.type !== 'string' || n.type.length === 0 || n.type.length > 128) problems.push(`${at}.node.type must be a node type name`);
          if (n.params !== undefined && !isObject(n.params)) problems.push(`${at}.node.params must be an object`);
          if (n.position !== undefined && !isPosition(n.position)) problems.push(`${at}.node.position must be {x, y} numbers`);
        }
        break;
      }
      case 'moveNode':
        if (!isPosition(op.position)) problems.push(`${at}.position must be {x, y} numbers`);
        break;
      case 'setParams':
        if (!isObject(op.params) || Object.keys(op.params).length === 0) problems.push(`${at}.params must be a non-empty object`);
        break;
      case 'setOptions':
        if (!isObject(op.options) || Object.keys(op.options).length === 0) problems.push(`${at}.options must be a non-empty object`);
        else for (const k of Object.keys(op.options)) if (!(NODE_OPTIONS as readonly string[]).includes(k)) problems.push(`${at}.options.${k} is not a node option (${NODE_OPTIONS.join(', ')})`);
        break;
      case 'connect':
      case 'disconnect': {
        const p = checkEdge(op.edge, `${at}.edge`);
        if (p) problems.push(p);
        break;
      }
      case 'rename':
        if (typeof op.name !== 'string' || op.name.trim() === '' || op.name.length > 200) problems.push(`${at}.name must be a non-empty string of at most 200 characters`);
        break;
    }
    return undefined;
  });
  return problems;
}

function clone<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

/**
 * Applies ops in order to a copy of `def`. Throws InvalidOpError when an op cannot apply (a node id
 * already taken, an unknown node, an edge to a missing node). Removing a node removes its edges.
 * Disconnecting an absent edge is a no-op (idempotent), as is connecting an edge that exists.
 */
export function applyOps<D extends OpsDefinition>(def: D, ops: readonly WorkflowOp[]): D {
  const out = clone(def);
  ops.forEach((op, i) => {
    const node = (id: string): OpsNode => {
      const n = out.nodes.find((x) => x.id === id);
      if (!n) throw new InvalidOpError(i, `node '${id}' does not exist`);
      return n;
    };
    switch (op.op) {
      case 'addNode':
        if (out.nodes.some((x) => x.id === op.node.id)) throw new InvalidOpError(i, `node id '${op.node.id}' is already taken`);
        out.nodes.push(clone(op.node));
        break;
      case 'removeNode':
        node(op.id);
        out.nodes = out.nodes.filter((x) => x.id !== op.id);
        out.edges = out.edges.filter((e) => e.from !== op.id && e.to !== op.id);
        break;
      case 'moveNode':
        node(op.id).position = { x: op.position.x, y: op.position.y };
        break;
      case 'setParams': {
        const n = node(op.id);
        const params = { ...(n.params ?? {}) };
        for (const [k, v] of Object.entries(op.params)) {
          if (v === null) delete params[k];
          else params[k] = clone(v);
        }
        n.params = params;
        break;
      }
      case 'setOptions': {
        const n = node(op.id);
        for (const [k, v] of Object.entries(op.options)) {
          if (v === null) delete n[k];
          else n[k] = clone(v);
        }
        break;
      }
      case 'connect': {
        node(op.edge.from);
        node(op.edge.to);
        const key = edgeKey(op.edge);
        if (!out.edges.some((e) => edgeKey(e) === key)) out.edges.push(clone(op.edge));
        break;
      }
      case 'disconnect': {
        const key = edgeKey(op.edge);
        out.edges = out.edges.filter((e) => edgeKey(e) !== key);
        break;
      }
      case 'rename':
        out.name = op.name;
        break;
    }
  });
  return out;
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** What changed between two versions, as the set of things an op can touch. */
export interface Changes {
  addedNodes: Set<string>;
  removedNodes: Set<string>;
  /** `<nodeId>` → param keys whose value changed */
  params: Map<string, Set<string>>;
  /** nodes whose position changed */
  moved: Set<string>;
  /** `<nodeId>` → option keys (and `type`) that changed */
  options: Map<string, Set<string>>;
  addedEdges: Set<string>;
  removedEdges: Set<string>;
  renamed: boolean;
}

export function diffDefinitions(base: OpsDefinition, current: OpsDefinition): Changes {
  const c: Changes = { addedNodes: new Set(), removedNodes: new Set(), params: new Map(), moved: new Set(), options: new Map(), addedEdges: new Set(), removedEdges: new Set(), renamed: base.name !== current.name };
  const before = new Map(base.nodes.map((n) => [n.id, n]));
  const after = new Map(current.nodes.map((n) => [n.id, n]));
  for (const id of before.keys()) if (!after.has(id)) c.removedNodes.add(id);
  for (const [id, n] of after) {
    const b = before.get(id);
    if (!b) {
      c.addedNodes.add(id);
      continue;
    }
    const keys = new Set([...Object.keys(b.params ?? {}), ...Object.keys(n.params ?? {})]);
    const changed = [...keys].filter((k) => !same(b.params?.[k], n.params?.[k]));
    if (changed.length) c.params.set(id, new Set(changed));
    if (!same(b.position, n.position)) c.moved.add(id);
    const opts = [...NODE_OPTIONS, 'type'].filter((k) => !same(b[k], n[k]));
    if (opts.length) c.options.set(id, new Set(opts));
  }
  const be = new Set(base.edges.map(edgeKey));
  const ae = new Set(current.edges.map(edgeKey));
  for (const k of be) if (!ae.has(k)) c.removedEdges.add(k);
  for (const k of ae) if (!be.has(k)) c.addedEdges.add(k);
  return c;
}

/** Ops that turn `base` into `current` (for history and for clients that need to catch up). */
export function opsBetween(base: OpsDefinition, current: OpsDefinition): WorkflowOp[] {
  const ops: WorkflowOp[] = [];
  if (base.name !== current.name) ops.push({ op: 'rename', name: current.name });
  const before = new Map(base.nodes.map((n) => [n.id, n]));
  const after = new Map(current.nodes.map((n) => [n.id, n]));
  const ae = new Set(current.edges.map(edgeKey));
  for (const e of base.edges) if (!ae.has(edgeKey(e)) && after.has(e.from) && after.has(e.to)) ops.push({ op: 'disconnect', edge: e });
  for (const id of before.keys()) if (!after.has(id)) ops.push({ op: 'removeNode', id });
  for (const [id, n] of after) {
    const b = before.get(id);
    if (!b || b.type !== n.type) {
      if (b) ops.push({ op: 'removeNode', id });
      ops.push({ op: 'addNode', node: clone(n) });
      continue;
    }
    const keys = new Set([...Object.keys(b.params ?? {}), ...Object.keys(n.params ?? {})]);
    const params: Record<string, unknown> = {};
    for (const k of keys) if (!same(b.params?.[k], n.params?.[k])) params[k] = n.params?.[k] === undefined ? null : clone(n.params[k]);
    if (Object.keys(params).length) ops.push({ op: 'setParams', id, params });
    if (!same(b.position, n.position) && n.position) ops.push({ op: 'moveNode', id, position: { ...n.position } });
    const options: Record<string, unknown> = {};
    for (const k of NODE_OPTIONS) if (!same(b[k], n[k])) options[k] = n[k] === undefined ? null : clone(n[k]);
    if (Object.keys(options).length) ops.push({ op: 'setOptions', id, options });
  }
  const be = new Set(base.edges.map(edgeKey));
  for (const e of current.edges) {
    const replaced = before.get(e.from)?.type !== after.get(e.from)?.type || before.get(e.to)?.type !== after.get(e.to)?.type;
    if (!be.has(edgeKey(e)) || replaced) ops.push({ op: 'connect', edge: clone(e) });
  }
  return ops;
}

export interface Conflict {
  /** index of the refused op in the submitted patch */
  index: number;
  op: WorkflowOp;
  /** what it collides with, in words */
  reason: string;
}

export type RebaseResult =
  | { ok: true; ops: WorkflowOp[]; definition: OpsDefinition }
  | { ok: false; conflicts: Conflict[] };

/**
 * Rebases `ops` (written against `base`) onto `current`. Ops made redundant by the concurrent changes
 * (removing a node or an edge already removed, adding an edge already added) are dropped; everything else
 * is kept as it is when it touches nothing that changed, and reported as a conflict when it does.
 * Throws InvalidOpError when the rebased ops cannot apply for reasons of their own.
 */
export function rebase(base: OpsDefinition, current: OpsDefinition, ops: readonly WorkflowOp[]): RebaseResult {
  const ch = diffDefinitions(base, current);
  const conflicts: Conflict[] = [];
  const kept: WorkflowOp[] = [];
  /** nodes this very patch adds (later ops of the patch may refer to them) */
  const ownNodes = new Set<string>();
  const gone = (id: string) => ch.removedNodes.has(id) && !ownNodes.has(id);
  ops.forEach((op, index) => {
    const conflict = (reason: string) => conflicts.push({ index, op, reason });
    switch (op.op) {
      case 'addNode':
        if (ch.addedNodes.has(op.node.id)) return conflict(`node id '${op.node.id}' was added by someone else since your version`);
        ownNodes.add(op.node.id);
        break;
      case 'removeNode': {
        if (ownNodes.has(op.id)) break;
        if (ch.removedNodes.has(op.id)) return; // already removed: nothing to do
        const p = ch.params.get(op.id);
        if (p?.size) return conflict(`node '${op.id}' had params changed since your version (${[...p].join(', ')})`);
        if (ch.options.get(op.id)?.has('type')) return conflict(`node '${op.id}' was replaced since your version`);
        const newEdge = [...ch.addedEdges].find((k) => k.startsWith(`${op.id}:`) || k.includes(`->${op.id}:`));
        if (newEdge) return conflict(`edge ${newEdge} to node '${op.id}' was added since your version`);
        break;
      }
      case 'moveNode':
        if (gone(op.id)) return conflict(`node '${op.id}' was removed since your version`);
        if (!ownNodes.has(op.id) && ch.moved.has(op.id)) return conflict(`node '${op.id}' was moved by someone else since your version`);
        break;
      case 'setParams': {
        if (gone(op.id)) return conflict(`node '${op.id}' was removed since your version`);
        if (ownNodes.has(op.id)) break;
        const changed = ch.params.get(op.id);
        const same = Object.keys(op.params).filter((k) => changed?.has(k));
        if (same.length) return conflict(`param ${same.map((k) => `'${k}'`).join(', ')} of node '${op.id}' was changed by someone else since your version`);
        if (ch.options.get(op.id)?.has('type')) return conflict(`node '${op.id}' was replaced since your version`);
        break;
      }
      case 'setOptions': {
        if (gone(op.id)) return conflict(`node '${op.id}' was removed since your version`);
        if (ownNodes.has(op.id)) break;
        const changed = ch.options.get(op.id);
        const same = Object.keys(op.options).filter((k) => changed?.has(k));
        if (same.length) return conflict(`option ${same.map((k) => `'${k}'`).join(', ')} of node '${op.id}' was changed by someone else since your version`);
        break;
      }
      case 'connect': {
        const missing = [op.edge.from, op.edge.to].find(gone);
        if (missing) return conflict(`edge ${edgeKey(op.edge)} goes to node '${missing}', removed since your version`);
        if (ch.addedEdges.has(edgeKey(op.edge))) return; // someone made the same connection
        break;
      }
      case 'disconnect':
        if (ch.removedEdges.has(edgeKey(op.edge))) return; // already gone
        break;
      case 'rename':
        if (ch.renamed && op.name !== current.name) return conflict(`the workflow was renamed to '${current.name}' since your version`);
        break;
    }
    kept.push(op);
  });
  if (conflicts.length) return { ok: false, conflicts };
  return { ok: true, ops: kept, definition: applyOps(current, kept) };
}
