import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit, Optional } from '@nestjs/common';
import { UnhandledExceptionBus } from '@nestjs/cqrs';
import type { Engine, ExecutionEvent, ExecutionReader, ExecutionStatus } from '@anchorflow/engine';
import { collectDefaultMetrics, Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Logger } from 'pino';
import { AuditService } from '../audit/audit.service.js';
import { DATABASE, EXECUTION_READER, EXECUTION_STORE } from '../core/database/database.tokens.js';
import { DAEMON_METRICS, DAEMON_PLUGINS, ENGINE, NATS_CLUSTER } from '../engine/engine.tokens.js';
import type { NatsCluster } from '../engine/nats-cluster.js';
import type { DaemonPlugins } from '../plugins/daemon-plugins.js';
import { type DaemonMetrics, EXECUTION_BUCKETS } from '../core/daemon-metrics.js';
import { ROOT_LOGGER } from '../logging/logging.tokens.js';
import { ENGINE_EVENTS, type EngineEvents } from '../events/engine-events.js';
import { NodeRunMetrics, type NodeRunSeries } from './node-run-metrics.js';

/** What PgExecutionStore.stats() reports (other stores may have no stats). */
interface StoreStats {
  flushes: number;
  failedFlushes: number;
  eventsWritten: number;
  pendingEvents: number;
  lastFlushMs: number;
  largestFlushEvents: number;
}

/** pg.Pool's figures (the raw SQL pool the adapters use) */
interface PoolFigures {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
}

const UNFINISHED: readonly ExecutionStatus[] = ['queued', 'running', 'waiting'];
/** cluster-wide counts come from one SQL query; scrapes closer together than this reuse its answer */
const COUNT_CACHE_MS = 2_000;

const NODE_DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800];
/** node-type lookups kept for executions this process has not seen finish (taken over, handed back) */
const MAX_TRACKED_EXECUTIONS = 100_000;
const UNKNOWN_TYPE = 'unknown';

type CounterChild = ReturnType<Counter<'type'>['labels']>;
interface NodeChildren { succeeded: NodeRunSeries; failed: NodeRunSeries; retries: CounterChild }

/**
 * Prometheus metrics in a registry of their own (never prom-client's global one), served by
 * MetricsController at GET /metrics.
 *
 * Engine events come from the daemon's fan-out (EngineEvents) through one subscription: per event a
 * switch, a map lookup or two and an increment on a series cached per node type (NodeRunMetrics for node
 * attempts, prom-client label children for the rest) — no per-event allocation of our own. Gauges that
 * mirror state (live executions, store and audit stats) are read when Prometheus scrapes, not maintained
 * per event.
 *
 * Other parts of the daemon register their own metrics on `registry` (the socket gateway calls
 * `setSocketClients`; the chain-anchor and payment-observer plugins will add anchor batches and observer lag).
 */
@Injectable()
export class MetricsService implements OnModuleInit, OnApplicationShutdown {
  readonly registry: Registry;

  private readonly executionsStarted: Counter;
  private readonly executionsFinished: Counter<'status'>;
  /** anchorflow_node_duration_seconds and anchorflow_node_runs_total */
  private readonly nodeRuns = new NodeRunMetrics(NODE_DURATION_BUCKETS);
  private readonly nodeRetries: Counter<'type'>;
  private readonly executionDuration: Histogram<'status'>;
  /** start time of executions in flight (for their duration) */
  private readonly startedAt = new Map<string, number>();
  private readonly handlerErrors: Counter;
  private readonly socketClients: Gauge;
  readonly retentionPruned: Counter<'reason'>;

  private readonly finishedByStatus: Record<'succeeded' | 'failed' | 'cancelled', ReturnType<Counter<'status'>['labels']>>;
  private readonly durationChildren = new Map<string, NodeChildren>();
  /** node id → node type, per workflow version (`<id>@<version>`) */
  private readonly typesByVersion = new Map<string, Map<string, string>>();
  /** the lookup of each execution in flight; null while its graph is being fetched */
  private readonly typesByExecution = new Map<string, Map<string, string> | null>();
  private readonly subscriptions: Array<{ unsubscribe(): void }> = [];

  constructor(
    @Inject(ENGINE) private readonly engine: Pick<Engine, 'liveExecutions' | 'graph' | 'view' | 'stats'>,
    @Inject(EXECUTION_STORE) private readonly store: { stats?: () => StoreStats },
    @Inject(DAEMON_METRICS) daemonMetrics: DaemonMetrics,
    @Inject(EXECUTION_READER) private readonly reader: Pick<ExecutionReader, 'countUnfinished'>,
    @Inject(DATABASE) private readonly database: { pool?: Partial<PoolFigures> },
    @Inject(NATS_CLUSTER) private readonly cluster: NatsCluster | null,
    @Inject(DAEMON_PLUGINS) private readonly plugins: Pick<DaemonPlugins, 'rows' | 'catalog'>,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
    @Inject(ENGINE_EVENTS) private readonly engineEvents: EngineEvents,
    private readonly unhandled: UnhandledExceptionBus,
    @Optional() private readonly audit?: AuditService,
  ) {
    this.registry = daemonMetrics.registry;
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    // gauges named like counters (promtool check metrics objects); nodejs_active_handles{type} etc. stay
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) this.registry.removeSingleMetric(name);
    this.executionsStarted = new Counter({ name: 'anchorflow_executions_started_total', help: 'Executions started by this daemon', registers });
    this.executionsFinished = new Counter({ name: 'anchorflow_executions_finished_total', help: 'Executions finished, by final status', labelNames: ['status'], registers });
    this.finishedByStatus = {
      succeeded: this.executionsFinished.labels('succeeded'),
      failed: this.executionsFinished.labels('failed'),
      cancelled: this.executionsFinished.labels('cancelled'),
    };
    this.executionDuration = new Histogram({ name: 'anchorflow_execution_duration_seconds', help: 'Duration of finished executions (start to finish, waits included), by final status', labelNames: ['status'], buckets: EXECUTION_BUCKETS, registers });
    this.registry.registerMetric(this.nodeRuns.runs);
    this.executionGauges(registers);
    this.databaseMetrics(registers);
    this.natsMetrics(registers);
    this.pluginMetrics(registers);
    this.registry.registerMetric(this.nodeRuns.duration);
    this.nodeRetries = new Counter({ name: 'anchorflow_node_retries_total', help: 'Failed node attempts that were scheduled for a retry, by node type', labelNames: ['type'], registers });
    this.handlerErrors = new Counter({ name: 'anchorflow_event_handler_errors_total', help: 'Errors thrown by event handlers (swallowed by @nestjs/cqrs, logged)', registers });
    this.socketClients = new Gauge({ name: 'anchorflow_socket_clients', help: 'Connected Socket.io clients (editor)', registers });
    this.retentionPruned = new Counter({ name: 'anchorflow_retention_pruned_executions_total', help: 'Finished executions deleted by retention, by rule', labelNames: ['reason'], registers });
    this.storeMetrics(registers);
    this.auditMetrics(registers);
  }

  /** For the socket gateway. */
  setSocketClients(count: number): void {
    this.socketClients.set(count);
  }

  onModuleInit(): void {
    this.subscriptions.push(
      this.engineEvents.subscribe((event) => {
        try {
          this.onEvent(event);
        } catch (err) {
          this.logger.warn({ err }, 'metrics: could not count an engine event');
        }
      }),
      this.unhandled.subscribe(() => this.handlerErrors.inc()),
    );
  }

  onApplicationShutdown(): void {
    for (const s of this.subscriptions.splice(0)) s.unsubscribe();
  }

  /** The exposition (text format). */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private onEvent(event: ExecutionEvent): void {
    switch (event?.type) {
      case 'execution.started':
        this.executionsStarted.inc();
        if (this.startedAt.size < MAX_TRACKED_EXECUTIONS) this.startedAt.set(event.executionId, event.at);
        this.track(event.executionId, event.workflowId, event.workflowVersion);
        return;
      case 'node.succeeded':
      {
        this.nodeRuns.observe(this.children(event.executionId, event.nodeId).succeeded, (event.at - event.startedAt) / 1000);
        return;
      }
      case 'node.failed': {
        const children = this.children(event.executionId, event.nodeId);
        this.nodeRuns.observe(children.failed, (event.at - event.startedAt) / 1000);
        if (event.retryAt !== undefined) children.retries.inc();
        return;
      }
      case 'node.waiting':
        // a wait may outlast the engine's memory of the execution (released beyond the wake-up horizon):
        // hold nothing per waiting execution here either; at its end the engine's view has both again
        this.startedAt.delete(event.executionId);
        this.typesByExecution.delete(event.executionId);
        return;
      case 'execution.finished': {
        this.finishedByStatus[event.status]?.inc();
        // taken over or resumed after a restart: the started event was not seen here, the view knows
        const startedAt = this.startedAt.get(event.executionId) ?? this.engine.view(event.executionId)?.startedAt;
        if (startedAt !== undefined) this.executionDuration.labels(event.status).observe(Math.max(0, event.at - startedAt) / 1000);
        this.startedAt.delete(event.executionId);
        this.typesByExecution.delete(event.executionId);
        return;
      }
      default:
    }
  }

  private children(executionId: string, nodeId: string): NodeChildren {
    let types = this.typesByExecution.get(executionId);
    if (types === undefined) {
      // resumed after a restart or taken over: no started event was seen here
      const view = this.engine.view(executionId);
      if (view) types = this.track(executionId, view.workflowId, view.workflowVersion);
    }
    const type = types?.get(nodeId) ?? UNKNOWN_TYPE;
    let children = this.durationChildren.get(type);
    if (!children) {
      children = {
        succeeded: this.nodeRuns.series(type, 'succeeded'), failed: this.nodeRuns.series(type, 'failed'), retries: this.nodeRetries.labels(type),
      };
      this.durationChildren.set(type, children);
    }
    return children;
  }

  private track(executionId: string, workflowId: string, version: number): Map<string, string> | null {
    if (this.typesByExecution.size >= MAX_TRACKED_EXECUTIONS) this.typesByExecution.clear();
    const key = `${workflowId}@${version}`;
    const known = this.typesByVersion.get(key);
    if (known) {
      this.typesByExecution.set(executionId, known);
      return known;
    }
    this.typesByExecution.set(executionId, null);
    // the engine compiled this graph to start the execution: the promise settles from its cache
    this.engine.graph(workflowId, version).then(
      (graph) => {
        const types = new Map<string, string>();
        for (const node of graph.nodes) types.set(node.id, node.spec.type);
        if (this.typesByVersion.size > 1000) this.typesByVersion.clear();
        this.typesByVersion.set(key, types);
        if (this.typesByExecution.get(executionId) === null) this.typesByExecution.set(executionId, types);
      },
      () => this.typesByExecution.delete(executionId),
    );
    return null;
  }

  /** executions by status (cluster-wide, from the store) and this engine's ready queue */
  private executionGauges(registers: Registry[]): void {
    const engine = this.engine;
    const reader = this.reader;
    const logger = this.logger;
    let cached: { at: number; counts: Promise<Partial<Record<ExecutionStatus, number>>> } | undefined;
    const counts = (): Promise<Partial<Record<ExecutionStatus, number>>> => {
      if (!cached || Date.now() - cached.at > COUNT_CACHE_MS) {
        cached = {
          at: Date.now(),
          counts: (reader.countUnfinished?.() ?? Promise.resolve({})).catch((err: unknown) => {
            logger.warn({ err }, 'metrics: could not count unfinished executions');
            return {};
          }),
        };
      }
      return cached.counts;
    };
    new Gauge({
      name: 'anchorflow_executions', help: 'Unfinished executions of the whole cluster by status (queued, running, waiting), from the database', labelNames: ['status'], registers,
      async collect() {
        const c = await counts();
        for (const status of UNFINISHED) this.labels(status).set(c[status] ?? 0);
      },
    });
    new Gauge({ name: 'anchorflow_engine_live_executions', help: 'Executions this daemon\'s engine holds in memory (running, or waiting on a timer due soon)', registers, collect() { this.set(engine.liveExecutions); } });
    new Gauge({ name: 'anchorflow_engine_running_nodes', help: 'Node attempts running in this daemon', registers, collect() { this.set(engine.stats().runningNodes); } });
    new Gauge({ name: 'anchorflow_ready_queue_depth', help: 'Node attempts ready to start, waiting for a concurrency slot (engine.maxConcurrentNodes)', registers, collect() { this.set(engine.stats().readyNodes); } });
    new Gauge({ name: 'anchorflow_ready_queue_oldest_seconds', help: 'How long the oldest ready node attempt has waited for a slot', registers, collect() { this.set(engine.stats().oldestReadyMs / 1000); } });
  }

  /** the raw SQL pool (PostgreSQL adapters); absent with in-memory ports */
  private databaseMetrics(registers: Registry[]): void {
    const pool = this.database?.pool;
    if (!pool || typeof pool.totalCount !== 'number') return;
    new Gauge({
      name: 'anchorflow_db_pool_connections', help: 'Connections of the database pool by state (in_use, idle)', labelNames: ['state'], registers,
      collect() {
        this.labels('in_use').set(Math.max(0, (pool.totalCount ?? 0) - (pool.idleCount ?? 0)));
        this.labels('idle').set(pool.idleCount ?? 0);
      },
    });
    new Gauge({ name: 'anchorflow_db_pool_waiting_requests', help: 'Queries waiting for a free pool connection', registers, collect() { this.set(pool.waitingCount ?? 0); } });
  }

  /** cluster mode: NATS connection, jobs published, JetStream redeliveries, live workers per node type */
  private natsMetrics(registers: Registry[]): void {
    const cluster = this.cluster;
    new Gauge({ name: 'anchorflow_nats_connected', help: '1 while connected to NATS (cluster mode); 0 when disconnected or without nats.url', registers, collect() { this.set(cluster?.isConnected() ? 1 : 0); } });
    if (!cluster) return;
    const catalog = this.plugins?.catalog;
    const dispatchedSeen = new Map<string, number>();
    new Counter({
      name: 'anchorflow_nats_jobs_dispatched_total', help: 'Node jobs this daemon published to JetStream for plugin workers, by node type', labelNames: ['type'], registers,
      collect() {
        for (const [type, n] of cluster.transport.dispatched) {
          const last = dispatchedSeen.get(type) ?? 0;
          if (n > last) this.labels(type).inc(n - last);
          dispatchedSeen.set(type, Math.max(last, n));
        }
      },
    });
    const workerTypes = (): string[] => [...new Set([...cluster.liveWorkers().flatMap((w) => w.nodeTypes), ...(catalog?.types().filter((t) => catalog.isRemote(t)) ?? [])])].sort();
    new Gauge({
      name: 'anchorflow_nats_live_workers', help: 'Live plugin workers serving each node type (0: jobs of that type wait)', labelNames: ['type'], registers,
      collect() {
        this.reset();
        const counts = new Map<string, number>();
        for (const w of cluster.liveWorkers()) for (const t of w.nodeTypes) counts.set(t, (counts.get(t) ?? 0) + 1);
        // types announced before whose workers are gone show as 0
        for (const t of catalog?.types() ?? []) if (catalog!.isRemote(t) && !counts.has(t)) counts.set(t, 0);
        for (const [t, n] of counts) this.labels(t).set(n);
      },
    });
    new Gauge({
      name: 'anchorflow_nats_jobs_redelivered', help: 'Jobs JetStream redelivered because a worker did not acknowledge in time (consumer num_redelivered), by node type', labelNames: ['type'], registers,
      async collect() {
        for (const s of await cluster.transport.consumerStats(workerTypes())) this.labels(s.nodeType).set(s.redelivered);
      },
    });
  }

  private pluginMetrics(registers: Registry[]): void {
    const plugins = this.plugins;
    new Gauge({
      name: 'anchorflow_plugins', help: 'Plugins of this daemon by load status (loaded, failed: see GET /api/v1/plugins for why)', labelNames: ['status'], registers,
      collect() {
        const rows = plugins?.rows ?? [];
        this.labels('loaded').set(rows.filter((r) => r.status === 'loaded').length);
        this.labels('failed').set(rows.filter((r) => r.status === 'failed').length);
      },
    });
  }

  private storeMetrics(registers: Registry[]): void {
    const store = this.store;
    if (typeof store?.stats !== 'function') return;
    const read = (): StoreStats | undefined => {
      try {
        return store.stats!();
      } catch {
        return undefined;
      }
    };
    monotonic(registers, 'anchorflow_store_flushes_total', 'Committed group-commit flushes of the execution store', () => read()?.flushes);
    monotonic(registers, 'anchorflow_store_failed_flushes_total', 'Failed flushes of the execution store (retried)', () => read()?.failedFlushes);
    monotonic(registers, 'anchorflow_store_events_written_total', 'Execution events committed', () => read()?.eventsWritten);
    new Gauge({ name: 'anchorflow_store_pending_events', help: 'Execution events appended, not yet committed', registers, collect() { this.set(read()?.pendingEvents ?? 0); } });
    new Gauge({ name: 'anchorflow_store_last_flush_seconds', help: 'Duration of the last committed flush', registers, collect() { this.set((read()?.lastFlushMs ?? 0) / 1000); } });
    new Gauge({ name: 'anchorflow_store_largest_flush_events', help: 'Most events committed by one flush', registers, collect() { this.set(read()?.largestFlushEvents ?? 0); } });
  }

  private auditMetrics(registers: Registry[]): void {
    const audit = this.audit;
    if (!audit) return;
    monotonic(registers, 'anchorflow_audit_entries_written_total', 'Audit log entries committed by this daemon', () => audit.stats().written);
    monotonic(registers, 'anchorflow_audit_batches_total', 'Committed audit log appends (one transaction each); entries written ÷ batches is the batch size audit.lingerMs buys', () => audit.stats().batches);
    monotonic(registers, 'anchorflow_audit_failed_batches_total', 'Failed audit log appends (retried)', () => audit.stats().failedBatches);
    monotonic(registers, 'anchorflow_audit_dropped_total', 'Audit entries that could not be kept (buffer full, shutdown timeout); each is also logged', () => audit.stats().dropped);
    new Gauge({ name: 'anchorflow_audit_pending_entries', help: 'Audit entries buffered, not yet committed', registers, collect() { this.set(audit.stats().pending); } });
    new Gauge({ name: 'anchorflow_audit_head_seq', help: 'seq of the last audit entry this daemon committed', registers, collect() { this.set(audit.stats().head?.seq ?? 0); } });
    new Gauge({ name: 'anchorflow_audit_lag_seconds', help: 'How long the oldest audit entry not yet committed has waited (0: all committed)', registers, collect() { this.set(audit.stats().oldestPendingMs / 1000); } });
  }
}

/** A counter that mirrors a total kept elsewhere: increased by the difference at each scrape. */
function monotonic(registers: Registry[], name: string, help: string, read: () => number | undefined): Counter {
  let last = 0;
  return new Counter({
    name, help, registers,
    collect() {
      const now = read();
      if (now === undefined) return;
      if (now > last) this.inc(now - last);
      last = Math.max(last, now);
    },
  });
}
