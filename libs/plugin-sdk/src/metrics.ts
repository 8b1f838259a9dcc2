/**
 * Metrics a plugin reports through `ctx.metrics` (nodes). The host decides where they go: the daemon
 * registers them on its Prometheus registry (GET /metrics) as `anchorflow_plugin_<plugin>_<name>` (`<plugin>`:
 * the package name without `@anchorflow/` and `plugin-`, e.g. `chain_anchor`, `acme_greet`), so two plugins
 * cannot collide and operators can tell whose a series is. Nodes running in a plugin worker (cluster mode)
 * get metrics that go nowhere for now. Names and label names follow Prometheus
 * rules ([a-zA-Z_][a-zA-Z0-9_]*; counters end in `_total`); asking twice for the same name returns the same
 * metric. Keep label values few (a status, a chain name), never ids.
 */
export type MetricLabels = Record<string, string | number>;

export interface PluginCounter {
  inc(labels?: MetricLabels, value?: number): void;
}

export interface PluginGauge {
  set(value: number, labels?: MetricLabels): void;
  inc(labels?: MetricLabels, value?: number): void;
  dec(labels?: MetricLabels, value?: number): void;
}

export interface PluginHistogram {
  /** a value in the metric's unit (seconds for `_seconds`) */
  observe(value: number, labels?: MetricLabels): void;
}

export interface PluginMetrics {
  counter(name: string, help: string, labelNames?: readonly string[]): PluginCounter;
  gauge(name: string, help: string, labelNames?: readonly string[]): PluginGauge;
  /** `buckets` default to Prometheus' (5 ms … 10 s) */
  histogram(name: string, help: string, labelNames?: readonly string[], buckets?: readonly number[]): PluginHistogram;
}

/** Metrics that go nowhere: what a node gets from a host that keeps none (a worker without a registry). */
export const noopMetrics: PluginMetrics = {
  counter: () => ({ inc: () => undefined }),
  gauge: () => ({ set: () => undefined, inc: () => undefined, dec: () => undefined }),
  histogram: () => ({ observe: () => undefined }),
};
