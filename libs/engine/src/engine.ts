import {
  type ChildExecution,
  type ChildExecutions,
  type CredentialsAccessor,
  type ErrorInfo,
  type NodeLogger,
  type NodeOutputs,
  type PluginState,
  NodeError,
  toErrorInfo,
  validateParams,
  silentLogger,
} from '@anchorflow/plugin-sdk';
import { NodeCatalog } from './catalog.js';
import {
  DEFAULT_ENGINE_OPTIONS,
  type EngineDeps,
  type EngineOptions,
  type EngineStats,
  type StartExecutionRequest,
  type StartExecutionResult,
} from './engine.types.js';
import { EngineError } from './errors.js';
import {
  type ExecutionEvent,
  ExecutionCancelRequestedEvent,
  ExecutionFinishedEvent,
  ExecutionStartedEvent,
  NodeCancelledEvent,
  NodeFailedEvent,
  NodeResumedEvent,
  NodeSkippedEvent,
  NodeStartedEvent,
  NodeSucceededEvent,
  NodeWaitingEvent,
} from './events/execution-events.js';
import { ExecutionState, inputOf, isTerminalNode, payloadOf } from './execution/execution-state.js';
import type { ExecutionView } from './execution/execution.types.js';
import { retryDelay } from './execution/retry-policy.js';
import { type ExpressionBindings, ExpressionEvaluator } from './expressions/expression-evaluator.js';
import { type Clock, systemClock } from './ports/clock.port.js';
import type { ExecutionLeases } from './ports/execution-leases.port.js';
import { SingleOwnerLeases } from './leases/single-owner-leases.js';
import { ExecutionOwnership } from './execution/ownership.js';
import type { ExecutionStore } from './ports/execution-store.port.js';
import { type Ids, randomIds } from './ports/ids.port.js';
import type { NodeJob, NodeJobEnvironment, NodeJobOutcome } from './ports/node-transport.port.js';
import { jsonBytes } from './transport/json-size.js';
import type { CompiledGraph } from './workflow/compiled-graph.js';
import { validateWorkflow } from './workflow/validate-workflow.js';
import type { ValidationProblem, ValidationWarning, WorkflowDefinition } from './workflow/workflow.types.js';

/**
 * Where a node's own expression (core.transform's `expression`, core.if's `condition`) sits in the
 * workflow, so an evaluation error names the param path as `=expressions` in params do.
 */
function paramPathOf(params: Record<string, unknown> | undefined, expression: string, base: string): string {
  if (params) for (const key in params) if (params[key] === expression) return `${base}.${key}`;
  return base;
}


/**
 * A node attempt's logger: every line names its execution and node (a line's own fields win). Made for
 * every attempt, so the fields are only copied when a line is written, and the methods live on the
 * prototype instead of four closures per attempt (issue 18).
 */
class AttemptLogger implements NodeLogger {
  constructor(
    private readonly logger: NodeLogger,
    private readonly executionId: string,
    private readonly workflowId: string,
    private readonly nodeId: string,
    private readonly nodeType: string,
    private readonly attempt: number,
  ) {}

  private fields(extra: Record<string, unknown> | undefined): Record<string, unknown> {
    return { executionId: this.executionId, workflowId: this.workflowId, nodeId: this.nodeId, nodeType: this.nodeType, attempt: this.attempt, ...extra };
  }

  debug(msg: string, extra?: Record<string, unknown>): void {
    this.logger.debug(msg, this.fields(extra));
  }

  info(msg: string, extra?: Record<string, unknown>): void {
    this.logger.info(msg, this.fields(extra));
  }

  warn(msg: string, extra?: Record<string, unknown>): void {
    this.logger.warn(msg, this.fields(extra));
  }

  error(msg: string, extra?: Record<string, unknown>): void {
    this.logger.error(msg, this.fields(extra));
  }
}

const NO_CREDENTIALS: CredentialsAccessor = {
  get: async (ref: string) => {
    throw new NodeError(`credential "${ref}" not found`, 'CREDENTIAL_NOT_FOUND');
  },
};
const noProgress = (): void => undefined;

/** the resume token a parent's node waits on for a child: the engine signals it when the child ends */
const CHILD_TOKEN = 'child:';
/** longest wait between two tries to claim an execution another daemon is letting go (25, 50 … 400 ms) */
const MAX_CLAIM_RETRY_MS = 400;
/** longest wait between two tries to start an error workflow while the store is down */
const ERROR_WORKFLOW_MAX_BACKOFF_MS = 10_000;

class NodeTimeoutError extends Error {
  readonly code = 'NODE_TIMEOUT';
  readonly retryable = true;
  constructor(ms: number) {
    super(`node did not finish within ${ms} ms`);
    this.name = 'NodeTimeoutError';
  }
}

/** One live execution: its folded state plus what only exists while it runs (timers, attempts, queues). */
class ExecutionRun {
  readonly remaining: Int32Array;
  running = 0;
  /** `at`: when the attempt became ready (scheduler lag) */
  readonly ready: Array<{ index: number; attempt: number; at: number }> = [];
  queued = false;
  /** the attempt whose result counts, per node; results of other attempts are ignored */
  readonly attempts = new Map<number, AbortController>();
  readonly timers = new Map<number, () => void>();
  readonly tokens = new Set<string>();
  finishing = false;
  /** nodes currently suspended (waiting) */
  suspended = 0;
  readonly viewFn: () => ExecutionView;
  bindings?: ExpressionBindings;
  /**
   * serialized bytes of the outputs this execution stored so far and measured (computed from the state on
   * first use, so a recovered run counts what it stored before)
   */
  outputBytes?: number;
  /** outputs counted only by an upper bound of their size so far, and the sum of those bounds */
  unmeasuredOutputs: NodeOutputs[] = [];
  unmeasuredBound = 0;

  constructor(readonly state: ExecutionState) {
    this.remaining = new Int32Array(state.graph.nodes.length);
    this.viewFn = () => state.view();
  }

  get graph(): CompiledGraph {
    return this.state.graph;
  }
}

interface Waiter {
  resolve(view: ExecutionView | undefined): void;
}

/**
 * The durable scheduler. Framework-free: everything it touches is a port. It keeps each live
 * execution's folded state in memory, appends every state change to the store (group-committed),
 * and waits for durability only where the outside world could tell: before a node with side effects,
 * before acknowledging a start, before reporting a finish.
 */
export class Engine {
  readonly catalog: NodeCatalog;
  readonly options: EngineOptions;
  private readonly store: ExecutionStore;
  private readonly leases: ExecutionLeases;
  private readonly clock: Clock;
  private readonly ids: Ids;
  private readonly logger: NodeLogger;
  private readonly evaluator: ExpressionEvaluator;
  private readonly runs = new Map<string, ExecutionRun>();
  private readonly tokenIndex = new Map<string, { executionId: string; nodeId: string }>();
  private readonly dedupe = new Map<string, string>();
  /** `child:` tokens of children that ended before their parent's node suspended on them (wake it when it does) */
  private readonly endedChildren = new Set<string>();
  /** ends of the waits between error-workflow start attempts (stop() ends them) */
  private readonly pauses = new Set<() => void>();
  private readonly waiters = new Map<string, Waiter[]>();
  private readonly graphs = new Map<string, CompiledGraph>();
  private readonly loading = new Map<string, Promise<ExecutionRun | undefined>>();
  private readonly readyRuns: ExecutionRun[] = [];
  private globalRunning = 0;
  private stopping = false;
  private readonly ownership: ExecutionOwnership;
  private readonly stateFor: (plugin: string) => PluginState;
  private readonly clockNow: () => number;

  constructor(readonly deps: EngineDeps) {
    this.catalog = deps.catalog;
    this.store = deps.store;
    this.leases = deps.leases ?? new SingleOwnerLeases(deps.store);
    this.clock = deps.clock ?? systemClock;
    this.ids = deps.ids ?? randomIds;
    const clock = this.clock;
    this.clockNow = () => clock.now();
    this.logger = deps.logger ?? silentLogger;
    this.options = { ...DEFAULT_ENGINE_OPTIONS, ...deps.options };
    this.evaluator = new ExpressionEvaluator(this.options.expressionTimeoutMs);
    const unavailable = async (): Promise<never> => {
      throw new NodeError('plugin state is not configured in this engine', 'STATE_UNAVAILABLE');
    };
    const noState: PluginState = { get: unavailable, set: unavailable, delete: unavailable, list: unavailable, update: unavailable, log: () => ({ append: unavailable, read: unavailable, length: unavailable }) };
    this.stateFor = deps.pluginState ?? (() => noState);
    this.ownership = new ExecutionOwnership(this.leases, this.clock, this.logger, this.options, {
      isStopping: () => this.stopping,
      liveIds: () => [...this.runs.keys()],
      isLive: (id) => this.runs.has(id),
      load: (id, claimed) => this.load(id, claimed),
      wake: (id) => {
        const run = this.runs.get(id);
        if (run) this.armAll(run);
      },
      abandon: (id) => {
        const run = this.runs.get(id);
        if (run) this.abandon(run);
      },
      cancelRequested: (id, reason) => {
        const run = this.runs.get(id);
        if (run && !run.finishing && !run.state.finished) {
          this.emit(run, new ExecutionCancelRequestedEvent(id, run.state.seq + 1, this.clock.now(), reason));
          this.terminate(run, 'cancelled');
        }
      },
    });
  }

  // ------------------------------------------------------------------ public API

  /** every problem of a submitted workflow at once; [] when valid (its warnings then go into `warnings`) */
  validate(definition: unknown, warnings?: ValidationWarning[]): ValidationProblem[] {
    const r = validateWorkflow(definition, this.catalog, this.options);
    if (r.ok) warnings?.push(...r.graph.warnings);
    return r.ok ? [] : r.problems;
  }

  /** validated, compiled graph (throws VALIDATION_FAILED) */
  compile(definition: unknown): CompiledGraph {
    const r = validateWorkflow(definition, this.catalog, this.options);
    if (!r.ok) throw new EngineError('VALIDATION_FAILED', `the workflow is invalid: ${r.problems.length} problem(s)`, r.problems);
    return r.graph;
  }

  /** starts an execution; resolves once its start is durable (unless awaitDurable is false) */
  async start(req: StartExecutionRequest): Promise<StartExecutionResult> {
    if (this.stopping) throw new EngineError('SHUTTING_DOWN', 'the engine is shutting down', undefined, true);
    const graph = await this.graphFor(req.workflowId, req.version, req.definition);
    if (req.triggerNodeId !== undefined) {
      const t = graph.byId.get(req.triggerNodeId);
      if (!t || t.predecessors.length > 0) throw new EngineError('INVALID_INPUT', `triggerNodeId "${req.triggerNodeId}" is not a trigger or start node of this workflow`);
    }
    if (req.dedupeKey !== undefined) {
      const key = `${req.workflowId}\u0000${req.dedupeKey}`;
      const existing = this.dedupe.get(key) ?? (await this.store.findByDedupeKey(req.workflowId, req.dedupeKey));
      if (existing) return { executionId: existing, duplicate: true };
    }
    const input = req.input === undefined ? {} : req.input;
    const triggerNodeId = req.triggerNodeId ?? this.defaultTrigger(graph);
    const executionId = this.ids.executionId();
    const started = new ExecutionStartedEvent(executionId, 1, this.clock.now(), req.workflowId, req.version, input, triggerNodeId, req.dedupeKey, req.parent);
    const state = ExecutionState.fromStarted(graph, started);
    const run = new ExecutionRun(state);
    this.runs.set(executionId, run);
    if (req.dedupeKey !== undefined) this.dedupe.set(`${req.workflowId}\u0000${req.dedupeKey}`, executionId);
    this.store.append([started], run.viewFn);
    this.deps.sink?.publish(started);
    if (req.awaitDurable === false) {
      this.begin(run);
    } else {
      try {
        await this.store.durable();
      } catch (err) {
        this.runs.delete(executionId);
        throw new EngineError('STORE_FAILED', 'could not record the execution', undefined, true, { cause: err });
      }
      this.begin(run);
    }
    return { executionId, duplicate: false };
  }

  /** the final view once it is durable, or undefined if not finished within timeoutMs */
  async whenFinished(executionId: string, timeoutMs: number): Promise<ExecutionView | undefined> {
    const live = this.runs.get(executionId);
    if (!live) {
      const stored = await this.store.get(executionId);
      if (!stored) throw new EngineError('NOT_FOUND', `execution ${executionId} not found`);
      if (stored.status === 'succeeded' || stored.status === 'failed' || stored.status === 'cancelled') return (await this.describe(executionId)) ?? stored;
    }
    return new Promise<ExecutionView | undefined>((resolve) => {
      let done = false;
      const waiter: Waiter = {
        resolve: (v) => {
          if (done) return;
          done = true;
          cancelTimer();
          resolve(v);
        },
      };
      const cancelTimer = this.clock.setTimer(timeoutMs, () => {
        const list = this.waiters.get(executionId);
        if (list) {
          const i = list.indexOf(waiter);
          if (i >= 0) list.splice(i, 1);
          if (!list.length) this.waiters.delete(executionId);
        }
        waiter.resolve(undefined);
      });
      const list = this.waiters.get(executionId);
      if (list) list.push(waiter);
      else this.waiters.set(executionId, [waiter]);
    });
  }

  /** cancels a running or waiting execution; throws NOT_FOUND / EXECUTION_FINISHED */
  async cancel(executionId: string, reason = 'cancelled by request'): Promise<void> {
    let run: ExecutionRun | undefined;
    try {
      run = await this.load(executionId);
    } catch (err) {
      // running on another daemon: it will see the request when it renews its lease
      if (err instanceof EngineError && err.code === 'CONFLICT' && (await this.leases.requestCancel(executionId, reason))) return;
      throw err;
    }
    if (!run) {
      const stored = await this.store.get(executionId);
      if (!stored) throw new EngineError('NOT_FOUND', `execution ${executionId} not found`);
      throw new EngineError('EXECUTION_FINISHED', `execution ${executionId} already ${stored.status}`);
    }
    if (run.state.finished || run.finishing) throw new EngineError('EXECUTION_FINISHED', `execution ${executionId} already ${run.state.status}`);
    this.emit(run, new ExecutionCancelRequestedEvent(executionId, run.state.seq + 1, this.clock.now(), reason));
    this.terminate(run, 'cancelled');
    await this.store.durable();
  }

  /** epoch ms on the engine's clock (what plugin services get as ctx.now()) */
  now(): number {
    return this.clock.now();
  }

  /** runs fn after ms on the engine's clock (what trigger sources sleep on); returns a cancel function */
  setTimer(ms: number, fn: () => void): () => void {
    return this.clock.setTimer(ms, fn);
  }

  /** resumes the node waiting on this token; throws NOT_FOUND */
  async signal(token: string, data?: unknown): Promise<{ executionId: string; nodeId: string }> {
    const where = this.tokenIndex.get(token) ?? (await this.store.findResumeToken(token));
    if (!where) throw new EngineError('NOT_FOUND', 'no node is waiting for this resume token');
    const run = await this.loadOnceReleased(where.executionId);
    const g = run?.graph.byId.get(where.nodeId);
    const n = g && run!.state.nodes[g.index];
    if (!run || !g || !n || n.status !== 'waiting' || n.resumeToken !== token) throw new EngineError('NOT_FOUND', 'no node is waiting for this resume token');
    this.resumeNode(run, g.index, 'signal', data);
    await this.store.durable();
    return where;
  }

  /** live in-memory view of an execution this engine is running */
  view(executionId: string): ExecutionView | undefined {
    return this.runs.get(executionId)?.state.view();
  }

  /**
   * The full view of any execution: live from memory, otherwise folded from its stored events (the
   * store's projection row is a summary; node runs and their outputs come from the history).
   */
  async describe(executionId: string): Promise<ExecutionView | undefined> {
    const live = this.runs.get(executionId);
    if (live) return live.state.view();
    const [summary, events] = await Promise.all([this.store.get(executionId), this.store.events(executionId)]);
    const first = events[0];
    if (!summary && !first) return undefined;
    if (!first || first.type !== 'execution.started') return summary;
    let graph: CompiledGraph;
    try {
      graph = await this.graphFor(first.workflowId, first.workflowVersion);
    } catch {
      return summary; // the version no longer compiles here: show the summary
    }
    const state = ExecutionState.fromStarted(graph, first as ExecutionStartedEvent);
    for (let i = 1; i < events.length; i++) state.apply(events[i]);
    // running/waiting is derived, not recorded: the projection knows it
    if (!state.finished && summary) state.status = summary.status;
    return state.view();
  }

  /** the compiled graph of a workflow version (cached) */
  async graph(workflowId: string, version: number): Promise<CompiledGraph> {
    return this.graphFor(workflowId, version);
  }

  /** resumes every unfinished execution this engine can claim; returns how many (ExecutionOwnership) */
  recover(): Promise<number> {
    return this.ownership.recover();
  }

  /** polls the store for timers and retries due soon that are not armed in memory; renews leases */
  startPolling(intervalMs = 5000): void {
    this.ownership.startPolling(intervalMs);
  }

  /** stops working on an execution without recording anything (it belongs to someone else now) */
  private abandon(run: ExecutionRun): void {
    for (const c of run.attempts.values()) c.abort(new EngineError('CONFLICT', 'execution taken over by another daemon'));
    run.attempts.clear();
    for (const cancel of run.timers.values()) cancel();
    run.timers.clear();
    run.ready.length = 0;
    for (const t of run.tokens) this.tokenIndex.delete(t);
    if (this.runs.get(run.state.id) === run) this.runs.delete(run.state.id);
  }

  /** stops taking work; running nodes are abandoned (they run again after a restart); flushes the store */
  async stop(): Promise<void> {
    this.stopping = true;
    this.ownership.stopPolling();
    for (const done of [...this.pauses]) done();
    for (const run of this.runs.values()) {
      for (const c of run.attempts.values()) c.abort(new EngineError('SHUTTING_DOWN', 'the daemon is shutting down'));
      run.attempts.clear();
      for (const cancel of run.timers.values()) cancel();
      run.timers.clear();
    }
    await this.store.durable().catch(() => undefined);
    // hand our executions to whichever daemon comes first, instead of making it wait for the lease
    if (this.runs.size) await this.leases.release([...this.runs.keys()]).catch(() => undefined);
    for (const [id, list] of this.waiters) {
      for (const w of list) w.resolve(undefined);
      this.waiters.delete(id);
    }
  }

  get liveExecutions(): number {
    return this.runs.size;
  }

  /** what this engine holds right now (metrics read it on a scrape) */
  stats(): EngineStats {
    let readyNodes = 0;
    let oldest = Infinity;
    for (const run of this.readyRuns) {
      readyNodes += run.ready.length;
      if (run.ready.length && run.ready[0]!.at < oldest) oldest = run.ready[0]!.at;
    }
    return { liveExecutions: this.runs.size, runningNodes: this.globalRunning, readyNodes, oldestReadyMs: oldest === Infinity ? 0 : Math.max(0, this.clock.now() - oldest) };
  }

  // ------------------------------------------------------------------ loading & recovery

  private async graphFor(workflowId: string, version: number, definition?: WorkflowDefinition): Promise<CompiledGraph> {
    const key = `${workflowId}@${version}`;
    let graph = this.graphs.get(key);
    if (graph) return graph;
    const def = definition ?? (await this.deps.workflows.getVersion(workflowId, version));
    if (!def) throw new EngineError('NOT_FOUND', `workflow ${workflowId} version ${version} not found`);
    graph = this.compile(def);
    if (this.graphs.size > 1000) this.graphs.delete(this.graphs.keys().next().value!);
    this.graphs.set(key, graph);
    return graph;
  }

  /** the live run, or rebuilt from its events and resumed; undefined when finished or unknown */
  /** `claimed`: the caller already holds the lease; otherwise it is claimed first (CONFLICT if held elsewhere) */
  private load(executionId: string, claimed = false): Promise<ExecutionRun | undefined> {
    const live = this.runs.get(executionId);
    if (live) return Promise.resolve(live);
    let p = this.loading.get(executionId);
    if (!p) {
      p = (async () => {
        if (!claimed && !(await this.leases.claim(executionId))) {
          const stored = await this.store.get(executionId);
          if (!stored || stored.status === 'succeeded' || stored.status === 'failed' || stored.status === 'cancelled') return undefined;
          throw new EngineError('CONFLICT', `execution ${executionId} is being run by another daemon`, undefined, true);
        }
        return this.rehydrate(executionId);
      })().finally(() => this.loading.delete(executionId));
      this.loading.set(executionId, p);
    }
    return p;
  }

  /**
   * `load`, waiting a moment (up to ~0.8 s) for another daemon to let the execution go. A daemon releases
   * an execution parked on a token only after its waiting state is committed, so a caller that saw it
   * waiting and sent the token to another daemon could find the lease not yet released (CONFLICT, seen in
   * the cross-daemon e2e under load). Still held after that: CONFLICT, which is retryable.
   */
  private async loadOnceReleased(executionId: string): Promise<ExecutionRun | undefined> {
    for (let delay = 25; ; delay *= 2) {
      try {
        return await this.load(executionId);
      } catch (err) {
        if (!(err instanceof EngineError) || err.code !== 'CONFLICT' || delay > MAX_CLAIM_RETRY_MS || this.stopping) throw err;
        await new Promise<void>((resolve) => this.clock.setTimer(delay, resolve));
      }
    }
  }

  private async rehydrate(executionId: string): Promise<ExecutionRun | undefined> {
    await this.store.durable();
    const events = await this.store.events(executionId);
    const first = events[0];
    if (!first || first.type !== 'execution.started') return undefined;
    let graph: CompiledGraph;
    try {
      graph = await this.graphFor(first.workflowId, first.workflowVersion);
    } catch (err) {
      // the version can no longer run here (e.g. a plugin was removed): fail it visibly instead of retrying forever
      const state = ExecutionState.fromStarted({ definition: { name: '', nodes: [], edges: [] }, nodes: [], byId: new Map(), order: [], sinks: [], triggers: [], warnings: [] }, first as ExecutionStartedEvent);
      for (const e of events.slice(1)) if (e.type === 'execution.finished') return undefined;
      const run = new ExecutionRun(state);
      state.seq = events[events.length - 1].seq;
      const info: ErrorInfo = { message: `cannot resume: ${(err as Error).message}`, code: 'WORKFLOW_UNAVAILABLE', retryable: false };
      this.emit(run, new ExecutionFinishedEvent(executionId, state.seq + 1, this.clock.now(), 'failed', undefined, info));
      await this.store.durable();
      return undefined;
    }
    if (this.runs.has(executionId)) return this.runs.get(executionId);
    const state = ExecutionState.fromStarted(graph, first as ExecutionStartedEvent);
    for (let i = 1; i < events.length; i++) state.apply(events[i]);
    if (state.finished) return undefined;
    const run = new ExecutionRun(state);
    this.runs.set(executionId, run);
    if (state.dedupeKey !== undefined) this.dedupe.set(`${state.workflowId}\u0000${state.dedupeKey}`, executionId);
    this.resumeRun(run);
    return run;
  }

  /** picks up a replayed execution where its history ends */
  private resumeRun(run: ExecutionRun): void {
    const { state, graph } = run;
    if (state.cancelRequested !== undefined) return this.terminate(run, 'cancelled');
    // a node failed and stopped the execution, but its end was not recorded (a crash while starting the
    // error workflow, or before the end's commit): end it the same way again
    for (const i of graph.order) {
      const n = state.nodes[i];
      if (n.status === 'failed' && n.output === undefined) return this.terminate(run, 'failed', { ...n.error!, nodeId: graph.nodes[i].id });
    }
    for (const g of graph.nodes) {
      let r = 0;
      for (const p of g.predecessors) if (!isTerminalNode(state.nodes[p])) r++;
      run.remaining[g.index] = r;
    }
    for (const i of graph.order) {
      const n = state.nodes[i];
      if (n.status === 'running') this.dispatch(run, i, n.attempt); // in flight at the crash: same attempt, same idempotency key
      else if (n.status === 'pending' && n.resume) this.dispatch(run, i, n.attempt);
      else if (n.status === 'pending' && n.retryAt !== undefined) this.arm(run, i, n.retryAt, 'retry');
      else if (n.status === 'waiting') this.registerWait(run, i);
      else if (n.status === 'pending' && run.remaining[i] === 0) this.decide(run, i);
    }
    this.maybeFinish(run);
    this.updateStatus(run);
  }

  // ------------------------------------------------------------------ scheduling

  private defaultTrigger(graph: CompiledGraph): string | undefined {
    const triggers = graph.triggers.map((i) => graph.nodes[i]);
    return (triggers.find((t) => t.def.type === 'core.trigger.manual') ?? triggers[0])?.id;
  }

  private begin(run: ExecutionRun): void {
    const { graph } = run;
    for (const g of graph.nodes) run.remaining[g.index] = g.predecessors.length;
    for (const g of graph.nodes) if (g.predecessors.length === 0 && run.state.nodes[g.index].status === 'pending') this.decide(run, g.index);
    this.maybeFinish(run);
  }

  private emit(run: ExecutionRun, event: ExecutionEvent): void {
    run.state.apply(event);
    this.store.append([event], run.viewFn);
    this.deps.sink?.publish(event);
  }

  private nextSeq(run: ExecutionRun): number {
    return run.state.seq + 1;
  }

  /** a node whose predecessors are all terminal: run it if an incoming edge is live, else skip it */
  private decide(run: ExecutionRun, index: number): void {
    // iterative so that skips propagating down a 10,000-node chain cannot overflow the stack
    const work = [index];
    while (work.length) {
      const i = work.pop()!;
      if (run.finishing || run.state.finished) return;
      const g = run.graph.nodes[i];
      let live: boolean;
      if (g.predecessors.length === 0) live = !g.trigger || run.state.triggerNodeId === undefined || run.state.triggerNodeId === g.id;
      else live = inputOf(run.graph, i, run.state.nodes, run.state.input).live;
      if (live) {
        this.dispatch(run, i, 1);
        continue;
      }
      this.emit(run, new NodeSkippedEvent(run.state.id, this.nextSeq(run), this.clock.now(), g.id));
      for (const s of g.successors) if (--run.remaining[s] === 0) work.push(s);
    }
  }

  private dispatch(run: ExecutionRun, index: number, attempt: number): void {
    if (run.running < this.options.maxConcurrentNodesPerExecution && this.globalRunning < this.options.maxConcurrentNodes && !run.ready.length) {
      void this.execute(run, index, attempt);
      return;
    }
    run.ready.push({ index, attempt, at: this.clock.now() });
    if (!run.queued) {
      run.queued = true;
      this.readyRuns.push(run);
    }
  }

  private pump(): void {
    let spins = this.readyRuns.length;
    while (spins-- > 0 && this.globalRunning < this.options.maxConcurrentNodes && this.readyRuns.length) {
      const run = this.readyRuns.shift()!;
      run.queued = false;
      while (run.ready.length && run.running < this.options.maxConcurrentNodesPerExecution && this.globalRunning < this.options.maxConcurrentNodes) {
        const next = run.ready.shift()!;
        if (run.finishing || run.state.finished) {
          run.ready.length = 0;
          break;
        }
        this.deps.observer?.schedulingLag('ready', this.clock.now() - next.at);
        void this.execute(run, next.index, next.attempt);
      }
      if (run.ready.length && !run.queued) {
        run.queued = true;
        this.readyRuns.push(run);
      }
    }
  }

  private bindings(run: ExecutionRun): ExpressionBindings {
    if (!run.bindings) {
      const s = run.state;
      run.bindings = {
        get trigger() {
          return s.triggerNodeId !== undefined && s.triggerNodeId in s.nodePayloads ? s.nodePayloads[s.triggerNodeId] : s.input;
        },
        nodes: s.nodePayloads,
        // ISO 8601, like every time the API shows
        execution: { id: s.id, workflowId: s.workflowId, workflowVersion: s.workflowVersion, startedAt: new Date(s.startedAt).toISOString(), input: s.input },
      };
    }
    return run.bindings;
  }

  private async execute(run: ExecutionRun, index: number, attempt: number): Promise<void> {
    const { state, graph } = run;
    const g = graph.nodes[index];
    const n = state.nodes[index];
    const controller = new AbortController();
    run.attempts.set(index, controller);
    run.running++;
    this.globalRunning++;
    const attemptStartedAt = this.clock.now();
    const resume = n.resume;
    // a node resumed after a wait keeps when it started; the resume time is its own field (resumedAt)
    const startedAt = resume && n.startedAt !== undefined ? n.startedAt : attemptStartedAt;
    let cancelTimeout: (() => void) | undefined;
    let outcome: NodeJobOutcome | undefined;
    let failure: unknown;
    try {
      if (!g.pure) {
        // the started event is durable before the side effect, so a crash re-runs it with the same key
        this.emit(run, new NodeStartedEvent(state.id, this.nextSeq(run), attemptStartedAt, g.id, attempt));
        await this.durableBarrier(controller.signal, { executionId: state.id, nodeId: g.id });
      } else {
        n.status = 'running';
        n.attempt = attempt;
        n.startedAt = startedAt;
      }
      const { input, sources } = inputOf(graph, index, state.nodes, state.input);
      let params = g.params;
      if (g.dynamicParams) {
        const resolved = await this.evaluator.resolveParams(g.params, input, this.bindings(run), `$.nodes[${index}].params`);
        const checked = validateParams(g.def.params, resolved);
        if (checked.problems.length) {
          throw new NodeError(`params after evaluation are invalid: ${checked.problems.map((p) => `${p.path.replace('$', `$.nodes[${index}].params`)} ${p.message}`).join('; ')}`, 'INVALID_PARAMS', checked.problems);
        }
        params = checked.value as Record<string, unknown>;
      }
      const job: NodeJob = {
        executionId: state.id,
        workflowId: state.workflowId,
        nodeId: g.id,
        nodeType: g.def.type,
        attempt,
        idempotencyKey: `${state.id}:${g.id}`,
        params,
        input,
        ...(resume ? { resume } : {}),
        ...(sources.length ? { sources } : {}),
        ...(g.timeoutMs ? { deadline: attemptStartedAt + g.timeoutMs } : {}),
      };
      const env: NodeJobEnvironment = {
        signal: controller.signal,
        // every line a node logs names its execution and node, so one execution's story can be grepped
        logger: new AttemptLogger(this.logger, state.id, state.workflowId, g.id, g.def.type, attempt),
        credentials: this.deps.credentials ?? NO_CREDENTIALS,
        state: this.stateFor,
        ...(this.deps.metrics ? { metrics: this.deps.metrics } : {}),
        evaluate: (expression, data) => this.evaluator.evaluate(expression, data, this.bindings(run), paramPathOf(g.spec.params, expression, `$.nodes[${index}].params`)),
        progress: noProgress,
        now: this.clockNow,
        executions: this.childExecutions(run, index),
      };
      const running = this.deps.transport.run(job, env);
      if (g.timeoutMs) {
        outcome = await new Promise<NodeJobOutcome>((resolve, reject) => {
          cancelTimeout = this.clock.setTimer(g.timeoutMs!, () => {
            const err = new NodeTimeoutError(g.timeoutMs!);
            controller.abort(err);
            reject(err);
          });
          running.then(resolve, reject);
        });
      } else {
        outcome = await running;
      }
    } catch (err) {
      failure = err;
    } finally {
      cancelTimeout?.();
      run.running--;
      this.globalRunning--;
    }
    const current = run.attempts.get(index) === controller;
    if (current) run.attempts.delete(index);
    if (current && !run.finishing && !state.finished) {
      if (failure !== undefined) this.onFailure(run, index, attempt, startedAt, failure);
      else if (outcome!.kind === 'output') {
        const overQuota = this.chargeOutput(run, outcome!.outputs, outcome!.outputBytes, outcome!.outputBytesBound);
        if (overQuota) this.onFailure(run, index, attempt, startedAt, overQuota);
        else this.onSuccess(run, index, attempt, startedAt, outcome!.outputs);
      }
      else this.onSuspend(run, index, attempt, startedAt, outcome!.until, outcome!.token);
    }
    if (run.ready.length && !run.queued) {
      run.queued = true;
      this.readyRuns.push(run);
    }
    if (this.readyRuns.length) this.pump();
  }

  /**
   * Per-execution output quota (issue 17): adds the output's serialized size to the execution's total,
   * or returns the error that fails the node (not retryable: the same output would be refused again)
   * when it would take the total past `maxExecutionOutputBytes`. Output that is not JSON is left to the
   * store to report.
   */
  private chargeOutput(run: ExecutionRun, outputs: NodeOutputs, measured?: number, bound?: number): NodeError | undefined {
    const limit = this.options.maxExecutionOutputBytes;
    if (!limit) return undefined;
    const size = (value: unknown): number => {
      try {
        return jsonBytes(value);
      } catch {
        return 0;
      }
    };
    run.outputBytes ??= run.state.nodes.reduce((sum, n) => sum + (n.output === undefined ? 0 : size(n.output)), 0);
    let bytes = measured ?? bound ?? size(outputs);
    const bounded = measured === undefined && bound !== undefined;
    if (run.outputBytes + run.unmeasuredBound + bytes > limit && (bounded || run.unmeasuredOutputs.length > 0)) {
      // upper bounds went past the quota: the exact sizes decide, each output measured once
      for (const earlier of run.unmeasuredOutputs) run.outputBytes += size(earlier);
      run.unmeasuredOutputs = [];
      run.unmeasuredBound = 0;
      if (bounded) bytes = size(outputs);
    } else if (bounded) {
      run.unmeasuredOutputs.push(outputs);
      run.unmeasuredBound += bytes;
      return undefined;
    }
    if (run.outputBytes + bytes > limit) {
      return new NodeError(
        `this node's ${bytes} bytes of output would take the execution's stored output to ${run.outputBytes + bytes} bytes; an execution may store at most ${limit} (engine.maxExecutionOutputBytes)`,
        'EXECUTION_OUTPUT_QUOTA',
        { bytes, executionBytes: run.outputBytes, limit },
      );
    }
    run.outputBytes += bytes;
    return undefined;
  }

  private onSuccess(run: ExecutionRun, index: number, attempt: number, startedAt: number, outputs: NodeOutputs): void {
    const g = run.graph.nodes[index];
    this.emit(run, new NodeSucceededEvent(run.state.id, this.nextSeq(run), this.clock.now(), g.id, attempt, outputs, startedAt));
    this.completed(run, index);
  }

  private completed(run: ExecutionRun, index: number): void {
    for (const s of run.graph.nodes[index].successors) if (--run.remaining[s] === 0) this.decide(run, s);
    this.maybeFinish(run);
    if (run.suspended > 0) this.updateStatus(run);
  }

  /**
   * Waits until the history so far is committed. A failed commit is retried by the store, so a
   * database hiccup delays side effects instead of failing them.
   */
  private async durableBarrier(signal: AbortSignal, about: { executionId: string; nodeId: string }): Promise<void> {
    for (let delay = 100; ; delay = Math.min(delay * 2, 5000)) {
      try {
        return await this.store.durable();
      } catch (err) {
        if (signal.aborted || this.stopping) throw err;
        this.logger.warn('store not durable yet; waiting before a side effect', { ...about, err: String(err) });
        await new Promise<void>((r) => this.clock.setTimer(delay, r));
      }
    }
  }

  private onSuspend(run: ExecutionRun, index: number, attempt: number, startedAt: number, until?: number, token?: string): void {
    const g = run.graph.nodes[index];
    if (until === undefined && token === undefined) {
      return this.onFailure(run, index, attempt, startedAt, new NodeError('suspended without a time or a token: it could never resume', 'INVALID_SUSPEND'));
    }
    this.emit(run, new NodeWaitingEvent(run.state.id, this.nextSeq(run), this.clock.now(), g.id, attempt, startedAt, until, token));
    this.registerWait(run, index);
    this.updateStatus(run);
  }

  private onFailure(run: ExecutionRun, index: number, attempt: number, startedAt: number, err: unknown): void {
    const g = run.graph.nodes[index];
    const info = toErrorInfo(err);
    const now = this.clock.now();
    if (info.retryable && attempt < g.retry.maxAttempts) {
      const retryAt = now + Math.max(retryDelay(g.retry, attempt), Math.min(info.retryAfterMs ?? 0, g.retry.maxBackoffMs));
      this.emit(run, new NodeFailedEvent(run.state.id, this.nextSeq(run), now, g.id, attempt, info, startedAt, retryAt));
      this.arm(run, index, retryAt, 'retry');
      return;
    }
    if (g.onError !== 'stop') {
      // the failure stays visible: the node run is failed and the execution lists it in failedNodes
      this.emit(run, new NodeFailedEvent(run.state.id, this.nextSeq(run), now, g.id, attempt, info, startedAt, undefined, true, g.onError === 'continue' ? 'main' : 'error'));
      this.completed(run, index);
      return;
    }
    this.emit(run, new NodeFailedEvent(run.state.id, this.nextSeq(run), now, g.id, attempt, info, startedAt));
    this.terminate(run, 'failed', { ...info, nodeId: g.id });
  }

  /** failure or cancel: running attempts are cancelled, everything else not terminal is skipped/cancelled */
  private terminate(run: ExecutionRun, status: 'failed' | 'cancelled', error?: ErrorInfo): void {
    if (run.finishing || run.state.finished) return;
    run.finishing = true;
    const { state, graph } = run;
    const reason = status === 'cancelled' ? new EngineError('EXECUTION_FINISHED', 'execution cancelled') : new EngineError('EXECUTION_FINISHED', 'execution failed');
    for (const c of run.attempts.values()) c.abort(reason);
    run.attempts.clear();
    for (const cancel of run.timers.values()) cancel();
    run.timers.clear();
    run.ready.length = 0;
    const now = this.clock.now();
    // a child this execution waited for has nobody left to wait for it
    const children: string[] = [];
    for (const n of state.nodes) if (n.status === 'waiting' && n.resumeToken?.startsWith(CHILD_TOKEN)) children.push(n.resumeToken.slice(CHILD_TOKEN.length));
    if (children.length) queueMicrotask(() => this.cancelChildren(state.id, children));
    for (const i of graph.order) {
      const n = state.nodes[i];
      if (isTerminalNode(n)) continue;
      const id = graph.nodes[i].id;
      const cancelled = status === 'cancelled' || n.status === 'running' || n.status === 'waiting';
      const inFlight = n.status === 'running' ? [n.attempt, n.startedAt] as const : [];
      this.emit(run, cancelled ? new NodeCancelledEvent(state.id, this.nextSeq(run), now, id, ...inFlight) : new NodeSkippedEvent(state.id, this.nextSeq(run), now, id));
    }
    this.finish(run, status, undefined, error);
  }

  private maybeFinish(run: ExecutionRun): void {
    const { state, graph } = run;
    if (run.finishing || state.finished || state.terminalCount < graph.nodes.length) return;
    run.finishing = true;
    const output: Record<string, unknown> = {};
    for (const i of graph.sinks) {
      const n = state.nodes[i];
      if (n.status === 'succeeded') output[graph.nodes[i].id] = payloadOf(n.output);
    }
    this.finish(run, 'succeeded', output);
  }

  /**
   * A failure whose workflow names an error workflow: that workflow's start is durable BEFORE the
   * failure's `execution.finished` is appended, so a crash in between leaves the execution unfinished;
   * recovery finishes it again and the dedupe key `error:<executionId>` makes the second start a no-op.
   */
  private finish(run: ExecutionRun, status: 'succeeded' | 'failed' | 'cancelled', output?: Record<string, unknown>, error?: ErrorInfo): void {
    const { state } = run;
    const errorWorkflowId = status === 'failed' && state.parent?.reason !== 'error' ? state.graph.definition.settings?.errorWorkflowId : undefined;
    if (!errorWorkflowId) return this.recordFinish(run, status, output, error);
    void this.startErrorWorkflow(state, errorWorkflowId, error).then((notStarted) => {
      // stopping, or taken over by another daemon: whoever recovers the execution finishes it (and dedupes the start)
      if (this.stopping || this.runs.get(state.id) !== run) return;
      const base = error ?? { code: 'FAILED', message: 'execution failed', retryable: false };
      this.recordFinish(run, status, output, notStarted === undefined ? error : { ...base, message: `${base.message} (error workflow ${errorWorkflowId} not started: ${notStarted})` });
    });
  }

  private recordFinish(run: ExecutionRun, status: 'succeeded' | 'failed' | 'cancelled', output?: Record<string, unknown>, error?: ErrorInfo): void {
    const { state } = run;
    this.emit(run, new ExecutionFinishedEvent(state.id, this.nextSeq(run), this.clock.now(), status, output, error));
    for (const t of run.tokens) this.tokenIndex.delete(t);
    const view = state.view();
    this.store.durable().then(
      () => {
        this.release(run, view);
        this.afterFinish(state, status);
      },
      (err) => {
        this.logger.error('could not persist the end of an execution; it stays in memory until the store recovers', { executionId: state.id, err: String(err) });
        this.store.durable().then(() => this.release(run, view), () => undefined);
      },
    );
  }

  private release(run: ExecutionRun, view: ExecutionView | undefined): void {
    const id = run.state.id;
    if (this.runs.get(id) === run) this.runs.delete(id);
    if (run.state.dedupeKey !== undefined) this.dedupe.delete(`${run.state.workflowId}\u0000${run.state.dedupeKey}`);
    const list = this.waiters.get(id);
    if (list) {
      this.waiters.delete(id);
      for (const w of list) w.resolve(view);
    }
  }

  /** status is derived: waiting when nothing runs or is queued and at least one node is suspended */
  private updateStatus(run: ExecutionRun): void {
    const { state } = run;
    if (state.finished || run.finishing) return;
    let waiting = false;
    let active = run.running > 0 || run.ready.length > 0;
    for (const n of state.nodes) {
      if (n.status === 'waiting') waiting = true;
      else if (n.status === 'running' || n.retryAt !== undefined || n.resume) active = true;
    }
    const status = waiting && !active ? 'waiting' : 'running';
    if (state.status !== status) {
      state.status = status;
      // the projection changes without an event: make the store write it
      this.store.append([], run.viewFn);
    }
    if (status === 'waiting' && run.timers.size === 0 && run.attempts.size === 0) {
      // nothing will happen without outside input or the poller: don't hold the execution in memory
      this.store.durable().then(
        () => {
          if (this.runs.get(state.id) === run && state.status === 'waiting' && run.timers.size === 0 && run.attempts.size === 0) {
            this.runs.delete(state.id);
            for (const t of run.tokens) this.tokenIndex.delete(t);
            this.leases.release([state.id]).catch((err) => this.logger.warn('could not release an idle execution', { executionId: state.id, err: String(err) }));
          }
        },
        () => undefined,
      );
    }
  }

  // ------------------------------------------------------------------ child executions

  /** ctx.executions for one node: starts (or finds again) the one child this node run owns */
  private childExecutions(run: ExecutionRun, index: number): ChildExecutions {
    return {
      start: async ({ workflowId, version, input, wait }) => {
        const { state } = run;
        const nodeId = run.graph.nodes[index].id;
        const dedupeKey = `parent:${state.id}:${nodeId}`;
        let childId = this.dedupe.get(`${workflowId}\u0000${dedupeKey}`) ?? (await this.store.findByDedupeKey(workflowId, dedupeKey));
        if (!childId) {
          const depth = (state.parent?.depth ?? 0) + 1;
          if (depth > this.options.maxSubworkflowDepth) {
            throw new NodeError(`sub-workflows nest deeper than ${this.options.maxSubworkflowDepth} levels here (is there a cycle of sub-workflows?): not starting workflow ${workflowId}`, 'SUBWORKFLOW_DEPTH');
          }
          const v = version ?? (await this.latestVersion(workflowId));
          try {
            const started = await this.start({ workflowId, version: v, input, dedupeKey, parent: { executionId: state.id, workflowId: state.workflowId, nodeId, reason: 'subworkflow', wait, depth } });
            childId = started.executionId;
          } catch (err) {
            if (err instanceof EngineError && err.code === 'NOT_FOUND') throw new NodeError(`sub-workflow ${workflowId}${version !== undefined ? ` version ${version}` : ''} not found`, 'SUBWORKFLOW_NOT_FOUND');
            if (err instanceof EngineError && err.code === 'VALIDATION_FAILED') throw new NodeError(`sub-workflow ${workflowId} does not compile here: ${err.message}`, 'SUBWORKFLOW_INVALID');
            throw err;
          }
        }
        return this.childExecution(childId);
      },
    };
  }

  private async latestVersion(workflowId: string): Promise<number> {
    const v = await this.deps.workflows.latestVersion?.(workflowId);
    if (v === undefined) throw new NodeError(`workflow ${workflowId} not found`, 'SUBWORKFLOW_NOT_FOUND');
    return v;
  }

  private async childExecution(executionId: string): Promise<ChildExecution> {
    const view = this.runs.get(executionId)?.state.view() ?? (await this.describe(executionId));
    if (!view) throw new NodeError(`child execution ${executionId} not found`, 'SUBWORKFLOW_NOT_FOUND');
    return {
      executionId,
      workflowId: view.workflowId,
      workflowVersion: view.workflowVersion,
      status: view.status,
      ...(view.output !== undefined ? { output: view.output } : {}),
      ...(view.error !== undefined ? { error: view.error } : {}),
      resumeToken: `${CHILD_TOKEN}${executionId}`,
    };
  }

  private cancelChildren(parentId: string, children: string[]): void {
    for (const child of children) {
      this.cancel(child, `parent execution ${parentId} ended`).catch((err) => {
        if (!(err instanceof EngineError && (err.code === 'EXECUTION_FINISHED' || err.code === 'NOT_FOUND'))) {
          this.logger.warn('could not cancel a child execution', { executionId: child, parentExecutionId: parentId, err: String(err) });
        }
      });
    }
  }

  /**
   * Once an execution's end is durable: wake the parent waiting for it (its node also polls, so a wake-up
   * lost to a crash or a race only delays it). The error workflow was started before the end (finish).
   */
  private afterFinish(state: ExecutionState, status: 'succeeded' | 'failed' | 'cancelled'): void {
    if (this.stopping) return;
    const parent = state.parent;
    if (parent?.reason === 'subworkflow' && parent.wait) this.wakeParent(parent.executionId, `${CHILD_TOKEN}${state.id}`, { executionId: state.id, status });
  }

  private wakeParent(parentId: string, token: string, data: unknown): void {
    this.signal(token, data).catch(() => {
      const parent = this.runs.get(parentId);
      // not live here (another daemon, or gone): the parent node's own poll finds the child's end
      if (!parent || parent.finishing || parent.state.finished) return;
      if (this.tokenIndex.has(token)) {
        // it suspended while the signal was looking for it
        this.signal(token, data).catch(() => undefined);
        return;
      }
      if (this.endedChildren.size >= 10_000) this.endedChildren.delete(this.endedChildren.values().next().value!);
      this.endedChildren.add(token);
    });
  }

  /**
   * Starts a failed execution's error workflow and waits until that start is durable. A store outage is
   * waited out (retried with backoff, never dropped); returns why it will never start (the workflow is
   * gone or does not compile, or too deep), or undefined once started (or when the engine stops).
   */
  private async startErrorWorkflow(state: ExecutionState, workflowId: string, error?: ErrorInfo): Promise<string | undefined> {
    const log = { executionId: state.id, workflowId: state.workflowId, errorWorkflowId: workflowId };
    const depth = (state.parent?.depth ?? 0) + 1;
    if (depth > this.options.maxSubworkflowDepth) {
      this.logger.error('not starting the error workflow of a failed execution: sub-workflows nest too deep', log);
      return `too deep (maxSubworkflowDepth ${this.options.maxSubworkflowDepth})`;
    }
    const { nodeId, ...rest } = error ?? { code: 'FAILED', message: 'execution failed', retryable: false };
    for (let attempt = 1; !this.stopping; attempt++) {
      try {
        const version = await this.deps.workflows.latestVersion?.(workflowId);
        if (version === undefined) throw new EngineError('NOT_FOUND', `workflow ${workflowId} not found`);
        const started = await this.start({
          workflowId,
          version,
          input: { executionId: state.id, workflowId: state.workflowId, failedNode: nodeId ?? null, error: rest, input: state.input },
          dedupeKey: `error:${state.id}`,
          parent: { executionId: state.id, workflowId: state.workflowId, reason: 'error', wait: false, depth },
        });
        // a duplicate may be a start whose commit failed earlier (its events stay queued): wait for it too,
        // then run it here unless it already runs (recovery or another daemon would pick it up later)
        await this.store.durable();
        if (started.duplicate && !this.runs.has(started.executionId)) void this.load(started.executionId).catch(() => undefined);
        return undefined;
      } catch (err) {
        if (err instanceof EngineError && (err.code === 'NOT_FOUND' || err.code === 'VALIDATION_FAILED' || err.code === 'INVALID_INPUT')) {
          this.logger.error('not starting the error workflow of a failed execution', { ...log, err: String(err) });
          return err.message;
        }
        if (this.stopping) break;
        const delayMs = Math.min(ERROR_WORKFLOW_MAX_BACKOFF_MS, 100 * 2 ** (attempt - 1));
        this.logger.warn('could not start the error workflow of a failed execution yet; retrying', { ...log, attempt, delayMs, err: String(err) });
        await this.pause(delayMs);
      }
    }
    return undefined;
  }

  /** a wait on the engine's clock that stop() ends early */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.pauses.delete(done);
        cancel();
        resolve();
      };
      const cancel = this.clock.setTimer(ms, done);
      this.pauses.add(done);
    });
  }

  // ------------------------------------------------------------------ timers and resume

  private registerWait(run: ExecutionRun, index: number): void {
    const n = run.state.nodes[index];
    const id = run.graph.nodes[index].id;
    run.suspended++;
    if (n.resumeToken) {
      run.tokens.add(n.resumeToken);
      this.tokenIndex.set(n.resumeToken, { executionId: run.state.id, nodeId: id });
      if (this.endedChildren.delete(n.resumeToken)) {
        const token = n.resumeToken;
        // the child was quicker than its parent's node: wake the node now instead of at its poll
        queueMicrotask(() => {
          if (!run.finishing && !run.state.finished && !this.stopping && n.status === 'waiting' && n.resumeToken === token) this.resumeNode(run, index, 'signal');
        });
      }
    }
    if (n.waitUntil !== undefined) this.arm(run, index, n.waitUntil, 'wait');
  }

  /** arms a timer if it is due within the horizon; later ones are found by the poller */
  private arm(run: ExecutionRun, index: number, at: number, kind: 'retry' | 'wait'): void {
    const delay = at - this.clock.now();
    if (delay > this.options.wakeUpHorizonMs || run.timers.has(index)) return;
    const cancel = this.clock.setTimer(Math.max(0, delay), () => {
      run.timers.delete(index);
      this.deps.observer?.schedulingLag('timer', Math.max(0, this.clock.now() - at));
      if (run.finishing || run.state.finished || this.stopping) return;
      const n = run.state.nodes[index];
      if (kind === 'retry' && n.retryAt !== undefined) this.dispatch(run, index, n.attempt + 1);
      else if (kind === 'wait' && n.status === 'waiting') this.resumeNode(run, index, 'timer');
    });
    run.timers.set(index, cancel);
  }

  /** re-arm timers that came within the horizon (poller) */
  private armAll(run: ExecutionRun): void {
    run.state.nodes.forEach((n, i) => {
      if (n.retryAt !== undefined) this.arm(run, i, n.retryAt, 'retry');
      else if (n.status === 'waiting' && n.waitUntil !== undefined) this.arm(run, i, n.waitUntil, 'wait');
    });
  }

  private resumeNode(run: ExecutionRun, index: number, reason: 'timer' | 'signal', data?: unknown): void {
    const n = run.state.nodes[index];
    const g = run.graph.nodes[index];
    run.suspended--;
    if (n.resumeToken) {
      run.tokens.delete(n.resumeToken);
      this.tokenIndex.delete(n.resumeToken);
    }
    run.timers.get(index)?.();
    run.timers.delete(index);
    this.emit(run, new NodeResumedEvent(run.state.id, this.nextSeq(run), this.clock.now(), g.id, reason, data));
    this.updateStatus(run);
    this.dispatch(run, index, n.attempt);
  }
}
