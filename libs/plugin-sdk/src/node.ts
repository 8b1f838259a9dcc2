import type { OutboundFetch } from './outbound.js';
import type { ParamsClass } from './params.js';
import type { WebhookCapability } from './webhook.js';

export type NodeCategory = 'trigger' | 'action' | 'transform' | 'flow' | 'chain' | 'notification';

/** What a node emits: payload per output port. A port that is absent did not emit (its edges are dead). */
export type NodeOutputs = Record<string, unknown>;

export interface NodeLogger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/** Credentials are referenced by name in params and resolved at run time; never stored in the graph. */
export interface CredentialsAccessor {
  get<T extends object = Record<string, unknown>>(ref: string): Promise<T>;
}

/**
 * Durable plugin-owned state (batches, cursors, delivery records) without touching the database.
 * Keys are scoped to the plugin; values are JSON.
 */
export interface PluginState {
  get<T = unknown>(key: string): Promise<T | undefined>;
  set(key: string, value: unknown): Promise<void>;
  delete(key: string): Promise<void>;
  /** keys starting with prefix, in key order */
  list<T = unknown>(prefix: string, options?: { limit?: number; after?: string }): Promise<Array<{ key: string; value: T }>>;
  /** Atomic read-modify-write: `fn` sees the current value and returns the new one (undefined deletes). */
  update<T = unknown>(key: string, fn: (current: T | undefined) => T | undefined): Promise<T | undefined>;
  /**
   * The plugin's append-only log named `stream` (an observer's events, an audit of what a service did):
   * JSON entries at positions 0, 1, 2, … that are never changed or removed. Scoped to the plugin like
   * the keys; on PostgreSQL a dedicated table (`plugin_log`), not state keys.
   */
  log<T = unknown>(stream: string): AppendOnlyLog<T>;
}

export interface AppendOptions {
  /**
   * Optimistic concurrency: append only when the log holds exactly this many entries, else throw a
   * NodeError with code `LOG_CONFLICT` and append nothing. Two writers (split brain) or a retry after a
   * crash can then never write the same positions twice. Without it, entries go at the end.
   */
  expectedLength?: number;
  /**
   * Plugin-state keys (key → JSON value) written in the same transaction as the entries: a reader's
   * cursor never points past what the log holds, and the log never holds entries the cursor missed.
   */
  checkpoint?: Record<string, unknown>;
}

/** An append-only log of JSON entries (see PluginState.log). */
export interface AppendOnlyLog<T = unknown> {
  /** appends entries after the last one (atomically, all or none); answers the new length */
  append(entries: readonly T[], options?: AppendOptions): Promise<number>;
  /** entries with position >= `from` (default 0), in position order, at most `limit` (default 1000, max 10000) */
  read(options?: { from?: number; limit?: number }): Promise<Array<{ pos: number; value: T }>>;
  /** how many entries the log holds (the position the next append starts at) */
  length(): Promise<number>;
}

/** the most entries one AppendOnlyLog.read answers */
export const LOG_READ_MAX = 10_000;
/** what a log stream may be named: 1–200 characters, no control characters */
export function logStreamProblem(stream: unknown): string | undefined {
  if (typeof stream !== 'string' || stream.length === 0 || stream.length > 200) return 'a log stream name must be a string of 1 to 200 characters';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f]/.test(stream)) return 'a log stream name must not contain control characters';
  return undefined;
}

/** Returned by `ctx.suspend()`; return it from `execute` to park the node without holding memory. */
export interface Suspension {
  readonly kind: 'suspend';
  /** wake up at this time (epoch ms) even without a signal */
  readonly until?: number;
  /** resume when this token is signalled (e.g. an approval link, a transaction's confirmation) */
  readonly token?: string;
}

export interface ResumeInfo {
  reason: 'timer' | 'signal';
  /** data delivered with the signal */
  data?: unknown;
  /** when the node was first suspended (epoch ms) */
  suspendedAt: number;
}

import type { PluginMetrics } from './metrics.js';
import type { ErrorInfo } from './errors.js';

/** A workflow execution started by a node (`ctx.executions.start`), as it is now. */
export interface ChildExecution {
  executionId: string;
  workflowId: string;
  workflowVersion: number;
  status: 'queued' | 'running' | 'waiting' | 'succeeded' | 'failed' | 'cancelled';
  /** the child's output once it succeeded (by sink node id) */
  output?: Record<string, unknown>;
  /** why it failed or was cancelled */
  error?: ErrorInfo;
  /**
   * Suspend on this token (`ctx.suspend({ token })`) to be resumed when the child finishes (`wait: true`);
   * the engine signals it with the child's final status. Reserved: the public resume route refuses it.
   */
  resumeToken: string;
}

/**
 * Starting other workflows from a node (core.subworkflow). Provided by the engine in the daemon; absent
 * where nodes run without it (plugin workers).
 */
export interface ChildExecutions {
  /**
   * Starts `workflowId` (its latest version unless `version` is given) as a child of this node, or — on a
   * retry, a resume or after a crash — returns the child this node already started (one child per node
   * run: the node's idempotency key). The child records its parent; `wait` says the parent waits for it
   * (cancelling the parent then cancels the child). Refused beyond the engine's sub-workflow depth limit.
   */
  start(request: { workflowId: string; version?: number; input?: unknown; wait: boolean }): Promise<ChildExecution>;
}

export interface NodeContext<P = Record<string, unknown>> {
  /** params with `=expressions` already evaluated against this node's input */
  readonly params: P;
  readonly executionId: string;
  readonly workflowId: string;
  readonly nodeId: string;
  readonly nodeType: string;
  /** 1 for the first attempt */
  readonly attempt: number;
  /** stable across retries and restarts of this node in this execution: pass it to every side effect */
  readonly idempotencyKey: string;
  /** aborted on cancel, timeout or shutdown */
  readonly signal: AbortSignal;
  readonly logger: NodeLogger;
  readonly credentials: CredentialsAccessor;
  readonly state: PluginState;
  /** the plugin's own Prometheus metrics (see PluginMetrics): `ctx.metrics.counter('deliveries_total', 'help', ['status']).inc({ status: 'sent' })` */
  readonly metrics: PluginMetrics;
  /** set when this run continues a suspension */
  readonly resume?: ResumeInfo;
  /**
   * ids of the nodes whose edges into this one are live, in edge order: with more than one, the
   * input is an object keyed by these ids (ARCHITECTURE §4).
   */
  readonly sources?: readonly string[];
  /**
   * The current time (epoch ms) from the host's clock. Use it instead of Date.now() for anything the
   * engine schedules (wake-up times, signature timestamps): tests drive it with a manual clock.
   */
  now(): number;
  /**
   * fetch for outbound HTTP: every connection (redirects included) is checked by resolved address; loopback,
   * private, link-local and ULA ranges and the daemon's own ports are refused unless an admin allow-lists
   * them (outbound.allowHosts). Use it instead of the global fetch. See docs/security.md.
   */
  fetch: OutboundFetch;
  /** evaluates a JSONata expression with the same bindings as params ($trigger, $nodes, $execution) */
  evaluate(expression: string, input?: unknown): Promise<unknown>;
  /** live progress for watchers; not persisted */
  progress(data: unknown): void;
  /** start other workflows (core.subworkflow); absent where the host cannot (plugin workers) */
  readonly executions?: ChildExecutions;
  /** build a suspension to return from execute */
  suspend(options: { until?: Date | number; token?: string }): Suspension;
}

export interface RetryPolicy {
  maxAttempts: number;
  backoffMs: number;
  factor: number;
  maxBackoffMs: number;
}

export interface NodeDefinition<P extends object = any> {
  /** `<plugin>.<name>` */
  type: string;
  version: number;
  title: string;
  description?: string;
  category: NodeCategory;
  /** input ports; [] for triggers */
  inputs: string[];
  /** output ports, or a function of the params when they are dynamic (core.switch) */
  outputs: string[] | ((params: P) => string[]);
  /** class-validator DTO describing the params */
  params?: ParamsClass<P>;
  /**
   * No side effects and deterministic given its input: the engine may run it before the execution's
   * history is durable, since re-running it after a crash is harmless.
   */
  pure?: boolean;
  /** default retry policy for this node type (a workflow node may override) */
  retry?: Partial<RetryPolicy>;
  /** default per-attempt timeout */
  timeoutMs?: number;
  execute(ctx: NodeContext<P>, input: unknown): Promise<NodeOutputs | Suspension> | NodeOutputs | Suspension;
  /** a trigger started by HTTP requests to /hooks/<path>: its route, request check and input mapping */
  webhook?: WebhookCapability<P>;
}

const TYPE_RE = /^[a-z][a-z0-9-]*(\.[a-z][a-zA-Z0-9-]*)+$/;

export function assertNodeTypeName(type: string): void {
  if (!TYPE_RE.test(type)) throw new TypeError(`node type "${type}" must look like "<plugin>.<name>" (lowercase plugin, dot-separated)`);
}

export function defineNode<P extends object>(def: NodeDefinition<P>): NodeDefinition<P> {
  assertNodeTypeName(def.type);
  if (!Number.isInteger(def.version) || def.version < 1) throw new TypeError(`${def.type}: version must be a positive integer`);
  if (typeof def.execute !== 'function') throw new TypeError(`${def.type}: execute must be a function`);
  if (def.webhook !== undefined) {
    if (def.category !== 'trigger' || def.inputs.length) throw new TypeError(`${def.type}: a webhook capability belongs to a trigger node (category 'trigger', no inputs)`);
    if (typeof def.webhook.route !== 'function') throw new TypeError(`${def.type}: webhook.route must be a function of the params`);
  }
  return Object.freeze({ ...def });
}

export function isSuspension(value: unknown): value is Suspension {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'suspend' && Object.keys(value).every((k) => k === 'kind' || k === 'until' || k === 'token');
}

export function outputPortsOf<P extends object>(def: NodeDefinition<P>, params: P): string[] {
  return typeof def.outputs === 'function' ? def.outputs(params) : def.outputs;
}

/** A logger that drops everything: the default where no logger is given (one declaration for all packages). */
export const silentLogger: NodeLogger = Object.freeze({ debug() {}, info() {}, warn() {}, error() {} });
