import type { Metric } from 'prom-client';

type Labels = { type: string; status: string };

/** One node type and outcome: its duration histogram and (the same count) its runs counter. */
export interface NodeRunSeries {
  readonly labels: Readonly<Labels>;
  /** observations per bucket, not cumulative; the last slot counts those above every bound */
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

/**
 * `anchorflow_node_duration_seconds` (histogram) and `anchorflow_node_runs_total` (counter), by node type
 * and outcome, counted in plain arrays and handed to the prom-client registry as metric data when it is
 * scraped.
 *
 * Every node attempt of every execution is counted here (11 per W1 webhook call), and prom-client's
 * Histogram#observe and Counter#inc validate the labels, hash them into a string key and look the bucket
 * up by its bound turned into a string on every call: ~2–3 % of a webhook call's CPU (issue 18). Here an
 * observation is a short scan of the bounds and three additions. The text and JSON the registry makes of
 * these are the same as prom-client's own Histogram and Counter make of the same observations
 * (node-run-metrics.spec.ts compares them), so dashboards see no difference.
 */
export class NodeRunMetrics {
  private readonly all: NodeRunSeries[] = [];

  constructor(
    private readonly bounds: readonly number[],
    durationHelp = 'Duration of node attempts, by node type and outcome',
    runsHelp = 'Finished node attempts, by node type and outcome',
  ) {
    this.duration = this.histogram('anchorflow_node_duration_seconds', durationHelp);
    this.runs = this.counter('anchorflow_node_runs_total', runsHelp);
  }

  /** the histogram and the counter, for `registry.registerMetric` (the exposition lists metrics in registration order) */
  readonly duration: Metric;
  readonly runs: Metric;

  /** the series of a node type and outcome (cache it: made anew on every call) */
  series(type: string, status: string): NodeRunSeries {
    const s: NodeRunSeries = { labels: { type, status }, counts: new Float64Array(this.bounds.length + 1), sum: 0, count: 0 };
    this.all.push(s);
    return s;
  }

  /** one finished attempt that took `seconds`; ignored (returns false) when that is not a finite number */
  observe(s: NodeRunSeries, seconds: number): boolean {
    if (!Number.isFinite(seconds)) return false;
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && seconds > bounds[i]!) i++;
    s.counts[i]!++;
    s.sum += seconds;
    s.count++;
    return true;
  }

  private observed(): NodeRunSeries[] {
    return this.all.filter((s) => s.count > 0);
  }

  private reset(): void {
    for (const s of this.all) {
      s.counts.fill(0);
      s.sum = 0;
      s.count = 0;
    }
  }

  /** prom-client's Histogram: buckets (cumulative, `le` first), +Inf, sum, count per series */
  private histogram(name: string, help: string): Metric {
    const forPromString = (): Array<{ value: number; labels: Record<string, string | number>; metricName: string; exemplar?: null; sharedLabels: Labels }> => {
      const values: Array<{ value: number; labels: Record<string, string | number>; metricName: string; exemplar?: null; sharedLabels: Labels }> = [];
      for (const s of this.observed()) {
        let acc = 0;
        for (let i = 0; i < this.bounds.length; i++) {
          acc += s.counts[i]!;
          values.push({ labels: { le: this.bounds[i]! }, value: acc, metricName: `${name}_bucket`, exemplar: null, sharedLabels: s.labels });
        }
        values.push(
          { labels: { le: '+Inf' }, value: s.count, metricName: `${name}_bucket`, exemplar: null, sharedLabels: s.labels },
          { labels: {}, value: s.sum, metricName: `${name}_sum`, sharedLabels: s.labels },
          { labels: {}, value: s.count, metricName: `${name}_count`, sharedLabels: s.labels },
        );
      }
      return values;
    };
    // (exemplars are off: prom-client lists them as null on bucket lines)
    const metric = {
      name,
      help,
      type: 'histogram',
      aggregator: 'sum',
      getForPromString: async () => ({ name, help, type: 'histogram', aggregator: 'sum', values: forPromString() }),
      get: async () => {
        const values = forPromString().map(({ sharedLabels, labels, ...rest }) => ({ ...rest, labels: { ...labels, ...sharedLabels } }));
        return { name, help, type: 'histogram', aggregator: 'sum', values };
      },
      reset: () => this.reset(),
    };
    return metric as unknown as Metric;
  }

  /** prom-client's Counter: one value per series */
  private counter(name: string, help: string): Metric {
    const metric = {
      // the registry renames counters for OpenMetrics (drops `_total`): read the name when asked
      name,
      help,
      type: 'counter',
      aggregator: 'sum',
      get: async () => ({ name: metric.name, help, type: 'counter', aggregator: 'sum', values: this.observed().map((s) => ({ value: s.count, labels: { ...s.labels } })) }),
      reset: () => this.reset(),
    };
    return metric as unknown as Metric;
  }
}
