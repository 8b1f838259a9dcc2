import type { EngineObserver } from '@anchorflow/engine';
import { pluginMetricsOn } from '@anchorflow/plugin-host';
import type { PluginMetrics } from '@anchorflow/plugin-sdk';
import { Counter, Histogram, Registry } from 'prom-client';

/** Seconds: 1 ms … 5 min (HTTP answers, node attempts, flushes, lags). */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
/** Seconds: 10 ms … 1 day (whole executions, which may wait for days). */
export const EXECUTION_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600, 14_400, 86_400];
const BATCH_BUCKETS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2000, 5000];


/** `200` → `2xx`: status classes keep the label set small. */
export const statusClass = (status: number): string => `${Math.floor(status / 100)}xx`;

/**
 * The daemon's Prometheus registry and the metrics other layers feed as things happen (HTTP answers,
 * scheduler lag, group-commit flushes, webhook answers, plugin metrics). A plain object created before
 * the engine (the engine and the store get callbacks into it); MetricsService adds what is read at
 * scrape time and serves the exposition.
 */
export class DaemonMetrics {
  readonly registry = new Registry();
  private readonly plugins = pluginMetricsOn(this.registry);
  private readonly httpDuration: Histogram<'method' | 'route' | 'status_class'>;
  private readonly webhookResponses: Counter<'status'>;
  private readonly schedulerLag: Histogram<'kind'>;
  private readonly flushBatch: Histogram;
  private readonly flushDuration: Histogram;
  private readonly serviceRestarts: Counter<'plugin' | 'service'>;

  constructor() {
    const registers = [this.registry];
    this.httpDuration = new Histogram({
      name: 'anchorflow_http_request_duration_seconds', help: 'HTTP requests by route template (never the raw path), method and status class',
      labelNames: ['method', 'route', 'status_class'], buckets: LATENCY_BUCKETS, registers,
    });
    this.webhookResponses = new Counter({ name: 'anchorflow_webhook_responses_total', help: 'Answers to webhook calls (/hooks/*), by HTTP status', labelNames: ['status'], registers });
    this.schedulerLag = new Histogram({
      name: 'anchorflow_scheduler_lag_seconds', help: 'How late node attempts start: ready — waiting for a concurrency slot; timer — a retry/wait timer firing after its due time',
      labelNames: ['kind'], buckets: LATENCY_BUCKETS, registers,
    });
    this.flushBatch = new Histogram({ name: 'anchorflow_store_flush_batch_events', help: 'Execution events committed per group-commit flush', buckets: BATCH_BUCKETS, registers });
    this.flushDuration = new Histogram({ name: 'anchorflow_store_flush_duration_seconds', help: 'Duration of committed group-commit flushes', buckets: LATENCY_BUCKETS, registers });
    this.serviceRestarts = new Counter({ name: 'anchorflow_plugin_service_restarts_total', help: 'Plugin services restarted after they stopped or failed, by plugin and service', labelNames: ['plugin', 'service'], registers });
  }

  /** An answered HTTP request; `route` is the route template (`/api/v1/executions/:id`), or `unmatched`. */
  httpRequest(method: string, route: string, status: number, seconds: number): void {
    this.httpDuration.labels(method, route, statusClass(status)).observe(seconds);
    if (route.startsWith('/hooks/')) this.webhookResponses.labels(String(status)).inc();
  }

  /** For the engine (EngineDeps.observer). */
  readonly engineObserver: EngineObserver = {
    schedulingLag: (kind, lagMs) => this.schedulerLag.labels(kind).observe(lagMs / 1000),
  };

  /** For the execution store (PgExecutionStoreOptions.onFlush). */
  readonly onFlush = (flush: { events: number; seconds: number }): void => {
    this.flushBatch.observe(flush.events);
    this.flushDuration.observe(flush.seconds);
  };

  /** For the plugin service host: a service of `plugin` was started again after it stopped or failed. */
  serviceRestarted(plugin: string, service: string): void {
    this.serviceRestarts.labels(plugin, service).inc();
  }

  /** ctx.metrics of `plugin`: its metrics are named `anchorflow_plugin_<plugin>_<name>`. */
  pluginMetrics(plugin: string): PluginMetrics {
    return this.plugins(plugin);
  }
}

