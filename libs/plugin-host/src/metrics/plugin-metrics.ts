import type { MetricLabels, PluginCounter, PluginGauge, PluginHistogram, PluginMetrics } from '@anchorflow/plugin-sdk';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

const NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
/**
 * The metric prefix part of a plugin name: `@anchorflow/plugin-chain-anchor` → `chain_anchor`,
 * `@acme/anchorflow-plugin-greet` → `acme_greet`, `my-plugin` → `my_plugin`.
 */
export function pluginMetricName(plugin: string): string {
  const [scope, pkg] = plugin.startsWith('@') && plugin.includes('/') ? [plugin.slice(1, plugin.indexOf('/')), plugin.slice(plugin.indexOf('/') + 1)] : ['', plugin];
  const base = pkg.replace(/^(anchorflow-)?plugin-/, '');
  const name = scope && scope !== 'anchorflow' ? `${scope}_${base}` : base;
  return name.replace(/[^a-zA-Z0-9_]+/g, '_').replace(/^_+|_+$/g, '').toLowerCase() || 'plugin';
}

type AnyMetric = Counter<string> | Gauge<string> | Histogram<string>;

/** PluginMetrics on a prom-client registry, under a prefix; the same name twice gives the same metric. */
export class RegistryPluginMetrics implements PluginMetrics {
  private readonly made = new Map<string, { kind: string; metric: AnyMetric }>();

  constructor(
    private readonly registry: Registry,
    private readonly prefix: string,
  ) {}

  counter(name: string, help: string, labelNames: readonly string[] = []): PluginCounter {
    if (!name.endsWith('_total')) throw new Error(`plugin counter ${name}: Prometheus counter names end in _total`);
    const c = this.make('counter', name, () => new Counter({ name: this.prefix + name, help, labelNames: [...labelNames], registers: [this.registry] })) as Counter<string>;
    return { inc: (labels, value = 1) => (labels ? c.inc(strings(labels), value) : c.inc(value)) };
  }

  gauge(name: string, help: string, labelNames: readonly string[] = []): PluginGauge {
    const g = this.make('gauge', name, () => new Gauge({ name: this.prefix + name, help, labelNames: [...labelNames], registers: [this.registry] })) as Gauge<string>;
    return {
      set: (value, labels) => (labels ? g.set(strings(labels), value) : g.set(value)),
      inc: (labels, value = 1) => (labels ? g.inc(strings(labels), value) : g.inc(value)),
      dec: (labels, value = 1) => (labels ? g.dec(strings(labels), value) : g.dec(value)),
    };
  }

  histogram(name: string, help: string, labelNames: readonly string[] = [], buckets?: readonly number[]): PluginHistogram {
    const h = this.make('histogram', name, () => new Histogram({ name: this.prefix + name, help, labelNames: [...labelNames], registers: [this.registry], ...(buckets ? { buckets: [...buckets] } : {}) })) as Histogram<string>;
    return { observe: (value, labels) => (labels ? h.observe(strings(labels), value) : h.observe(value)) };
  }

  private make(kind: string, name: string, create: () => AnyMetric): AnyMetric {
    if (!NAME.test(name)) throw new Error(`plugin metric name ${JSON.stringify(name)}: use letters, digits and _ (not starting with a digit)`);
    const known = this.made.get(name);
    if (known) {
      if (known.kind !== kind) throw new Error(`plugin metric ${name} is a ${known.kind}, not a ${kind}`);
      return known.metric;
    }
    const metric = create();
    this.made.set(name, { kind, metric });
    return metric;
  }
}

const strings = (labels: MetricLabels): Record<string, string> => Object.fromEntries(Object.entries(labels).map(([k, v]) => [k, String(v)]));

/**
 * ctx.metrics of each plugin on one registry: `anchorflow_plugin_<plugin>_<name>`. The daemon and the
 * worker process both expose theirs this way.
 */
export function pluginMetricsOn(registry: Registry): (plugin: string) => PluginMetrics {
  const made = new Map<string, PluginMetrics>();
  return (plugin) => {
    let metrics = made.get(plugin);
    if (!metrics) {
      metrics = new RegistryPluginMetrics(registry, `anchorflow_plugin_${pluginMetricName(plugin)}_`);
      made.set(plugin, metrics);
    }
    return metrics;
  };
}
