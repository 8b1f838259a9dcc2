import type { MetricLabels, PluginCounter, PluginGauge, PluginHistogram, PluginMetrics } from '../metrics.js';

const key = (labels: MetricLabels = {}): string => JSON.stringify(Object.entries(labels).map(([k, v]) => [k, String(v)]).sort());

/**
 * PluginMetrics that remember what a node reported, for specs: `runNode(node, { metrics })` then
 * `metrics.value('deliveries_total', { status: 'sent' })`. Checks names like the daemon does.
 */
export class RecordingMetrics implements PluginMetrics {
  private readonly values = new Map<string, Map<string, number>>();
  private readonly samples = new Map<string, Map<string, number[]>>();

  counter(name: string, _help: string, labelNames: readonly string[] = []): PluginCounter {
    checkName(name, labelNames);
    if (!name.endsWith('_total')) throw new Error(`counter ${name}: counter names end in _total`);
    return { inc: (labels, value = 1) => this.add(name, labels, value) };
  }

  gauge(name: string, _help: string, labelNames: readonly string[] = []): PluginGauge {
    checkName(name, labelNames);
    return {
      set: (value, labels) => void this.series(name).set(key(labels), value),
      inc: (labels, value = 1) => this.add(name, labels, value),
      dec: (labels, value = 1) => this.add(name, labels, -value),
    };
  }

  histogram(name: string, _help: string, labelNames: readonly string[] = []): PluginHistogram {
    checkName(name, labelNames);
    return {
      observe: (value, labels) => {
        const byLabels = this.samples.get(name) ?? this.samples.set(name, new Map()).get(name)!;
        const list = byLabels.get(key(labels)) ?? byLabels.set(key(labels), []).get(key(labels))!;
        list.push(value);
      },
    };
  }

  /** a counter's or gauge's current value for these labels (0 if never touched) */
  value(name: string, labels?: MetricLabels): number {
    return this.values.get(name)?.get(key(labels)) ?? 0;
  }

  /** the values a histogram observed for these labels */
  observations(name: string, labels?: MetricLabels): number[] {
    return this.samples.get(name)?.get(key(labels)) ?? [];
  }

  private series(name: string): Map<string, number> {
    return this.values.get(name) ?? this.values.set(name, new Map()).get(name)!;
  }

  private add(name: string, labels: MetricLabels | undefined, value: number): void {
    const series = this.series(name);
    series.set(key(labels), (series.get(key(labels)) ?? 0) + value);
  }
}

const NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Prometheus' rules for metric and label names (what the daemon's registry would refuse). */
export function checkName(name: string, labelNames: readonly string[]): void {
  if (!NAME.test(name)) throw new Error(`metric name ${JSON.stringify(name)}: use letters, digits and _ (not starting with a digit)`);
  for (const l of labelNames) if (!NAME.test(l) || l.startsWith('__')) throw new Error(`metric ${name}: label name ${JSON.stringify(l)} is not allowed`);
}
