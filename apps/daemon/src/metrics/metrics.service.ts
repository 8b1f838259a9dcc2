import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit, Optional } from '@nestjs/common';
import { EventBus, UnhandledExceptionBus } from '@nestjs/cqrs';
import type { Engine, ExecutionEvent } from '@anchorflow/engine';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Logger } from 'pino';
import type { Subscription } from 'rxjs';
import { AuditService } from '../audit/audit.service.js';
import { EXECUTION_STORE } from '../core/database/database.tokens.js';
import { ENGINE } from '../engine/engine.tokens.js';
import { ROOT_LOGGER } from '../logging/logging.tokens.js';

/** What PgExecutionStore.stats() reports (other stores may have no stats). */
interface StoreStats {
  flushes: number;
  failedFlushes: number;
  eventsWritten: number;
  pendingEvents: number;
  lastFlushMs: number;
  largestFlushEvents: number;
}

const NODE_DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800];
/** node-type lookups kept for executions this process has not seen finish (taken over, handed back) */
const MAX_TRACKED_EXECUTIONS = 100_000;
const UNKNOWN_TYPE = 'unknown';

type HistogramChild = ReturnType<Histogram<'type' | 'status'>['labels']>;
type CounterChild = ReturnType<Counter<'type'>['labels']>;

/**
 * Prometheus metrics in a registry of their own (never prom-client's global one), served by
 * MetricsController at GET /metrics.
 *
 * Engine events come off the EventBus through one direct subscription: per event a switch, a map
 * lookup or two and a prom-client increment on a label child cached per node type — no per-event
 * allocation of our own. Gauges that mirror state (live executions, store and audit stats) are read
 * when Prometheus scrapes, not maintained per event.
 *
 * Other parts of the daemon register their own metrics on `registry` (the socket gateway calls
 * `setSocketClients`; the chain-anchor and payment-observer plugins will add anchor batches and observer lag).
 */
@Injectable()
export class MetricsService implements OnModuleInit, OnApplicationShutdown {
  readonly registry = new Registry();

  private readonly executionsStarted: Counter;
  private readonly executionsFinished: Counter<'status'>;
  private readonly nodeDuration: Histogram<'type' | 'status'>;
  private readonly nodeRetries: Counter<'type'>;
  private readonly handlerErrors: Counter;
  private readonly socketClients: Gauge;
  readonly retentionPruned: Counter<'reason'>;

  private readonly finishedByStatus: Record<'succeeded' | 'failed' | 'cancelled', ReturnType<Counter<'status'>['labels']>>;
  private readonly durationChildren = new Map<string, { succeeded: HistogramChild; failed: HistogramChild; retries: CounterChild }>();
  /** node id → node type, per workflow version (`<id>@<version>`) */
  private readonly typesByVersion = new Map<string, Map<string, string>>();
  /** the lookup of each execution in flight; null while its graph is being fetched */
  private readonly typesByExecution = new Map<string, Map<string, string> | null>();
  private readonly subscriptions: Subscription[] = [];

  constructor(
    @Inject(ENGINE) private readonly engine: Pick<Engine, 'liveExecutions' | 'graph' | 'view'>,
    @Inject(EXECUTION_STORE) private readonly store: { stats?: () => StoreStats },
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
    private readonly eventBus: EventBus,
    private readonly unhandled: UnhandledExceptionBus,
    @Optional() private readonly audit?: AuditService,
  ) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.executionsStarted = new Counter({ name: 'anchorflow_executions_started_total', help: 'Executions started by this daemon', registers });
    this.executionsFinished = new Counter({ name: 'anchorflow_executions_finished_total', help: 'Executions finished, by final status', labelNames: ['status'], registers });
    this.finishedByStatus = {
      succeeded: this.executionsFinished.labels('succeeded'),
      failed: this.executionsFinished.labels('failed'),
      cancelled: this.executionsFinished.labels('cancelled'),
    };
    const engineRef = this.engine;
    new Gauge({
      name: 'anchorflow_executions_running', help: 'Unfinished executions held by this daemon\'s engine (running or waiting): its queue depth', registers,
      collect() { this.set(engineRef.liveExecutions); },
    });
    this.nodeDuration = new Histogram({ name: 'anchorflow_node_duration_seconds', help: 'Duration of node attempts, by node type and outcome', labelNames: ['type', 'status'], buckets: NODE_DURATION_BUCKETS, registers });
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
      this.eventBus.subscribe({
        next: (event: unknown) => {
          try {
            this.onEvent(event as ExecutionEvent);
          } catch (err) {
            this.logger.warn({ err }, 'metrics: could not count an engine event');
          }
        },
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
        this.track(event.executionId, event.workflowId, event.workflowVersion);
        return;
      case 'node.succeeded':
        this.children(event.executionId, event.nodeId).succeeded.observe((event.at - event.startedAt) / 1000);
        return;
      case 'node.failed': {
        const children = this.children(event.executionId, event.nodeId);
        children.failed.observe((event.at - event.startedAt) / 1000);
        if (event.retryAt !== undefined) children.retries.inc();
        return;
      }
      case 'execution.finished':
        this.finishedByStatus[event.status]?.inc();
        this.typesByExecution.delete(event.executionId);
        return;
      default:
    }
  }

  private children(executionId: string, nodeId: string): { succeeded: HistogramChild; failed: HistogramChild; retries: CounterChild } {
    let types = this.typesByExecution.get(executionId);
    if (types === undefined) {
      // resumed after a restart or taken over: no started event was seen here
      const view = this.engine.view(executionId);
      if (view) types = this.track(executionId, view.workflowId, view.workflowVersion);
    }
    const type = types?.get(nodeId) ?? UNKNOWN_TYPE;
    let children = this.durationChildren.get(type);
    if (!children) {
      children = { succeeded: this.nodeDuration.labels(type, 'succeeded'), failed: this.nodeDuration.labels(type, 'failed'), retries: this.nodeRetries.labels(type) };
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
    monotonic(registers, 'anchorflow_audit_failed_batches_total', 'Failed audit log appends (retried)', () => audit.stats().failedBatches);
    monotonic(registers, 'anchorflow_audit_dropped_total', 'Audit entries that could not be kept (buffer full, shutdown timeout); each is also logged', () => audit.stats().dropped);
    new Gauge({ name: 'anchorflow_audit_pending_entries', help: 'Audit entries buffered, not yet committed', registers, collect() { this.set(audit.stats().pending); } });
    new Gauge({ name: 'anchorflow_audit_head_seq', help: 'seq of the last audit entry this daemon committed', registers, collect() { this.set(audit.stats().head?.seq ?? 0); } });
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
