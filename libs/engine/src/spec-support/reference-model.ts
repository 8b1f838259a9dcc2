/**
 * A deliberately simple executable model of the execution rules (ARCHITECTURE §4), and a seeded
 * generator of random graphs for it (issue 16). The model walks the nodes one at a time in topological
 * order — no concurrency, no timers, no store — so it is easy to believe:
 *  - the trigger is live; any other node is live when at least one incoming edge's source emitted on
 *    that edge's port; a node that is not live is skipped;
 *  - a live node's input: one live edge → that payload; several → an object keyed by source node id in
 *    edge order (`<id>.<port>` for a second edge from the same source);
 *  - a transient failure is retried up to `retry.maxAttempts` (same node, attempt + 1); a node that still
 *    fails with `continueOnFail` is `failed` and emits `{error: {..., nodeId}}` on port `error`; without it
 *    the execution fails: nothing after the failing node runs, nodes that were running are cancelled
 *    (or had finished), the rest is skipped;
 *  - the output of a succeeded execution: the payload of every succeeded sink, by node id.
 * `modelCatalog()` provides the node types the generated graphs use.
 */
import { IsIn, IsInt, IsOptional, IsString, Min } from 'class-validator';
import { NodeError, TransientNodeError, defineNode } from '@anchorflow/plugin-sdk';
import { NodeCatalog } from '../catalog.js';
import type { WorkflowDefinition, WorkflowNode } from '../workflow/workflow.types.js';

export interface Rng {
  next(): number;
  int(min: number, max: number): number;
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
}

/** mulberry32: a case reproduces from its seed */
export function rng(seed: number): Rng {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (min, max) => min + Math.floor(next() * (max - min + 1)), pick: (items) => items[Math.floor(next() * items.length)]!, chance: (p) => next() < p };
}

class StepParams {
  /** fail this many times with a transient error, then succeed */
  @IsOptional() @IsInt() @Min(0) failTimes?: number;
  /** always fail with a NodeError (not retryable) */
  @IsOptional() @IsIn([true]) fatal?: true;
  /** take this long (aborted on cancel) */
  @IsOptional() @IsInt() @Min(0) delayMs?: number;
}
class RouteParams {
  @IsString() pick!: string;
}

/** what a node saw as input, compactly: the source tag(s), in order */
export function saw(input: unknown): string {
  if (input && typeof input === 'object' && 'tag' in input) return String((input as { tag: unknown }).tag);
  if (input && typeof input === 'object') return Object.entries(input).map(([k, v]) => `${k}=${v && typeof v === 'object' && 'tag' in v ? String((v as { tag: unknown }).tag) : JSON.stringify(v)}`).join(',');
  return JSON.stringify(input);
}

export const ROUTE_PORTS = ['a', 'b', 'c'] as const;

export interface ModelProbe {
  /** attempts per node id */
  calls: Map<string, number>;
  running: number;
  maxRunning: number;
}

export function modelCatalog(probe: ModelProbe): NodeCatalog {
  const catalog = new NodeCatalog();
  const enter = (id: string): number => {
    probe.calls.set(id, (probe.calls.get(id) ?? 0) + 1);
    probe.running++;
    probe.maxRunning = Math.max(probe.maxRunning, probe.running);
    return probe.calls.get(id)!;
  };
  catalog.register(defineNode({ type: 'm.src', version: 1, title: 'source', category: 'trigger', inputs: [], outputs: ['main'], pure: true, execute: (_ctx, input) => ({ main: { tag: 'src', input } }) }), 'm');
  catalog.register(defineNode({
    type: 'm.step', version: 1, title: 'step', category: 'action', inputs: ['main'], outputs: ['main'], params: StepParams,
    async execute(ctx, input) {
      const n = enter(ctx.nodeId);
      try {
        if (ctx.params.delayMs) {
          await new Promise<void>((resolve, reject) => {
            const t = setTimeout(resolve, ctx.params.delayMs);
            ctx.signal.addEventListener('abort', () => { clearTimeout(t); reject(ctx.signal.reason); }, { once: true });
          });
        }
        if (ctx.params.fatal) throw new NodeError(`${ctx.nodeId} fails`, 'MODEL_FATAL');
        if (n <= (ctx.params.failTimes ?? 0)) throw new TransientNodeError(`${ctx.nodeId} failure ${n}`, 'MODEL_TRANSIENT');
        return { main: { tag: ctx.nodeId, saw: saw(input) } };
      } finally {
        probe.running--;
      }
    },
  }), 'm');
  catalog.register(defineNode({
    type: 'm.route', version: 1, title: 'route', category: 'flow', inputs: ['main'], outputs: [...ROUTE_PORTS], pure: true, params: RouteParams,
    execute: (ctx, input) => ({ [ctx.params.pick]: { tag: ctx.nodeId, saw: saw(input) } }),
  }), 'm');
  return catalog;
}

export interface GeneratedCase {
  seed: number;
  def: WorkflowDefinition;
  input: { n: number };
  maxConcurrentNodesPerExecution: number;
}

/** A random DAG: node 0 is the trigger; every other node has 1-3 incoming edges from earlier nodes. */
export function generateCase(seed: number): GeneratedCase {
  const r = rng(seed);
  const count = r.int(3, 10);
  const nodes: WorkflowNode[] = [{ id: 'n0', type: 'm.src', params: {} }];
  const edges: WorkflowDefinition['edges'] = [];
  // at most one node that ends failed (fatal, or out of retries), with or without continueOnFail
  const failing = r.chance(0.6) ? r.int(1, count - 1) : -1;
  for (let i = 1; i < count; i++) {
    const id = `n${i}`;
    const route = i !== failing && r.chance(0.25);
    if (route) {
      nodes.push({ id, type: 'm.route', params: { pick: r.pick(ROUTE_PORTS) } });
    } else {
      const params: Record<string, unknown> = {};
      const node: WorkflowNode = { id, type: 'm.step', params };
      if (r.chance(0.4)) params.delayMs = r.int(1, 15);
      const maxAttempts = r.int(1, 3);
      node.retry = { maxAttempts, backoffMs: 1, factor: 1, maxBackoffMs: 2 };
      if (i === failing) {
        if (r.chance(0.5)) params.fatal = true; else params.failTimes = maxAttempts;
        if (r.chance(0.5)) node.continueOnFail = true;
      } else if (r.chance(0.4)) {
        params.failTimes = r.int(0, maxAttempts - 1);
      }
      nodes.push(node);
    }
    const sources = new Set<number>();
    const incoming = r.int(1, Math.min(3, i));
    while (sources.size < incoming) sources.add(r.int(0, i - 1));
    for (const s of sources) {
      const from = nodes[s]!;
      const fromPort = from.type === 'm.route' ? r.pick(ROUTE_PORTS) : from.continueOnFail && r.chance(0.5) ? 'error' : 'main';
      edges.push(fromPort === 'main' ? { from: from.id, to: id } : { from: from.id, to: id, fromPort });
    }
  }
  return { seed, def: { name: `model ${seed}`, nodes, edges }, input: { n: r.int(0, 99) }, maxConcurrentNodesPerExecution: r.pick([1, 2, 16]) };
}

export interface ModelNode {
  status: 'succeeded' | 'failed' | 'skipped';
  attempt?: number;
  output?: Record<string, unknown>;
}

export interface ModelResult {
  status: 'succeeded' | 'failed';
  nodes: Record<string, ModelNode>;
  /** the node that failed the execution */
  failedAt?: string;
  output?: Record<string, unknown>;
}

/** Runs the graph by the rules above, one node at a time. */
export function runModel(c: GeneratedCase): ModelResult {
  const { nodes, edges } = c.def;
  const result: Record<string, ModelNode> = {};
  for (const node of nodes) {
    const incoming = edges.filter((e) => e.to === node.id);
    let input: unknown = c.input;
    if (incoming.length > 0) {
      const sources: string[] = [];
      const payloads: unknown[] = [];
      for (const e of incoming) {
        const out = result[e.from]?.output;
        const port = e.fromPort ?? 'main';
        if (!out || !(port in out)) continue;
        sources.push(sources.includes(e.from) ? `${e.from}.${port}` : e.from);
        payloads.push(out[port]);
      }
      if (sources.length === 0) { result[node.id] = { status: 'skipped' }; continue; }
      input = sources.length === 1 ? payloads[0] : Object.fromEntries(sources.map((s, i) => [s, payloads[i]]));
    }
    const p = (node.params ?? {}) as { pick?: string; fatal?: true; failTimes?: number };
    if (node.type === 'm.src') { result[node.id] = { status: 'succeeded', output: { main: { tag: 'src', input } } }; continue; }
    if (node.type === 'm.route') { result[node.id] = { status: 'succeeded', output: { [p.pick!]: { tag: node.id, saw: saw(input) } } }; continue; }
    const maxAttempts = node.retry?.maxAttempts ?? 1;
    const failTimes = p.failTimes ?? 0;
    if (p.fatal || failTimes >= maxAttempts) {
      const attempt = p.fatal ? 1 : maxAttempts;
      const error = p.fatal
        ? { message: `${node.id} fails`, code: 'MODEL_FATAL', retryable: false, nodeId: node.id }
        : { message: `${node.id} failure ${maxAttempts}`, code: 'MODEL_TRANSIENT', retryable: true, nodeId: node.id };
      if (node.continueOnFail) { result[node.id] = { status: 'failed', attempt, output: { error } }; continue; }
      result[node.id] = { status: 'failed', attempt };
      return { status: 'failed', nodes: result, failedAt: node.id };
    }
    result[node.id] = { status: 'succeeded', attempt: failTimes + 1, output: { main: { tag: node.id, saw: saw(input) } } };
  }
  const output: Record<string, unknown> = {};
  for (const node of nodes) {
    if (edges.some((e) => e.from === node.id)) continue;
    const n = result[node.id]!;
    if (n.status !== 'succeeded') continue;
    const ports = Object.keys(n.output!);
    output[node.id] = ports.length === 1 ? n.output![ports[0]!] : n.output;
  }
  return { status: 'succeeded', nodes: result, output };
}

/** ids of the nodes with a path from `id` (not including it) */
export function descendants(def: WorkflowDefinition, id: string): Set<string> {
  const out = new Set<string>();
  const stack = [id];
  while (stack.length) {
    const cur = stack.pop()!;
    for (const e of def.edges) if (e.from === cur && !out.has(e.to)) { out.add(e.to); stack.push(e.to); }
  }
  return out;
}

/** ids of the nodes with a path to `id` (not including it) */
export function ancestors(def: WorkflowDefinition, id: string): Set<string> {
  const out = new Set<string>();
  const stack = [id];
  while (stack.length) {
    const cur = stack.pop()!;
    for (const e of def.edges) if (e.to === cur && !out.has(e.from)) { out.add(e.from); stack.push(e.from); }
  }
  return out;
}

interface ViewLike {
  status: string;
  output?: Record<string, unknown>;
  error?: { nodeId?: string };
  nodeRuns: Array<{ nodeId: string; status: string; attempt: number; output?: Record<string, unknown> }>;
}
interface EventLike { seq: number; type: string; nodeId?: string; retryAt?: number }

/** Differences between what the engine did and what the model says (empty: they agree). */
export function compareWithModel(c: GeneratedCase, model: ModelResult, view: ViewLike, events: readonly EventLike[]): string[] {
  const problems: string[] = [];
  const run = new Map(view.nodeRuns.map((r) => [r.nodeId, r]));
  const json = (v: unknown): string => JSON.stringify(v);
  const sameOutput = (got: Record<string, unknown> | undefined, want: Record<string, unknown> | undefined): boolean => json(got) === json(want);
  const afterFailure = model.failedAt ? { desc: descendants(c.def, model.failedAt), anc: ancestors(c.def, model.failedAt) } : undefined;
  if (view.status !== model.status) problems.push(`execution ${view.status}, model ${model.status}`);
  for (const node of c.def.nodes) {
    const got = run.get(node.id);
    const want = model.nodes[node.id];
    const gotText = got ? `${got.status}/attempt ${got.attempt}/${json(got.output)}` : 'no node run';
    if (!got) { problems.push(`${node.id}: no node run`); continue; }
    if (!afterFailure || want) {
      // decided by the model before any failure stopped the execution
      const inFlightAtFailure = afterFailure && !afterFailure.anc.has(node.id) && node.id !== model.failedAt;
      if (inFlightAtFailure && (got.status === 'cancelled' || got.status === 'skipped')) continue; // it had not finished when the execution failed
      if (got.status !== want!.status || (want!.attempt !== undefined && got.attempt !== want!.attempt) || !sameOutput(got.output, want!.output)) {
        problems.push(`${node.id}: engine ${gotText}, model ${want!.status}/attempt ${want!.attempt}/${json(want!.output)}`);
      }
      continue;
    }
    // not reached by the model: the execution failed first
    if (afterFailure.desc.has(node.id)) {
      if (got.status !== 'skipped') problems.push(`${node.id} (after the failed ${model.failedAt}): engine ${gotText}, expected skipped`);
    } else if (!['skipped', 'cancelled', 'succeeded', 'failed'].includes(got.status)) {
      problems.push(`${node.id} (beside the failed ${model.failedAt}): engine ${gotText}, expected finished, cancelled or skipped`);
    }
  }
  if (model.status === 'succeeded' && json(view.output) !== json(model.output)) problems.push(`execution output ${json(view.output)}, model ${json(model.output)}`);
  if (model.failedAt) {
    if (view.error?.nodeId !== model.failedAt) problems.push(`execution error names ${view.error?.nodeId}, model ${model.failedAt}`);
    // nothing starts once the failure is recorded; running siblings end (finished or cancelled)
    const failedSeq = events.find((e) => e.type === 'node.failed' && e.nodeId === model.failedAt && e.retryAt === undefined)?.seq;
    if (failedSeq === undefined) problems.push(`no final node.failed event for ${model.failedAt}`);
    else for (const e of events) if (e.type === 'node.started' && e.seq > failedSeq) problems.push(`${e.nodeId} started (seq ${e.seq}) after ${model.failedAt} failed (seq ${failedSeq})`);
    for (const r of view.nodeRuns) if (['running', 'pending', 'waiting'].includes(r.status)) problems.push(`${r.nodeId} still ${r.status} after the execution failed`);
  }
  const seqs = events.map((e) => e.seq);
  if (!seqs.every((s, i) => s === i + 1)) problems.push(`event seqs ${seqs.join(',')}`);
  if (events.at(-1)?.type !== 'execution.finished') problems.push(`last event ${events.at(-1)?.type}, not execution.finished`);
  return problems;
}
