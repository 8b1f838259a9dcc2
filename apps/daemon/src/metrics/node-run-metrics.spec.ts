import { describe, expect, it } from '@jest/globals';
import { Counter, Histogram, Registry, type RegistryContentType } from 'prom-client';
import { NodeRunMetrics } from './node-run-metrics.js';

const BOUNDS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800];

/** the same observations into prom-client's own Histogram + Counter and into NodeRunMetrics */
function both(openMetrics = false) {
  const reference = new Registry<RegistryContentType>();
  const ours = new Registry<RegistryContentType>();
  if (openMetrics) for (const r of [reference, ours]) r.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  const runs = new Counter({ name: 'anchorflow_node_runs_total', help: 'Finished node attempts, by node type and outcome', labelNames: ['type', 'status'], registers: [reference] });
  const duration = new Histogram({ name: 'anchorflow_node_duration_seconds', help: 'Duration of node attempts, by node type and outcome', labelNames: ['type', 'status'], buckets: BOUNDS, registers: [reference] });
  const metrics = new NodeRunMetrics(BOUNDS);
  ours.registerMetric(metrics.runs);
  ours.registerMetric(metrics.duration);
  const series = new Map<string, ReturnType<NodeRunMetrics['series']>>();
  const observe = (type: string, status: string, seconds: number): void => {
    duration.labels(type, status).observe(seconds);
    runs.labels(type, status).inc();
    const key = `${type}/${status}`;
    if (!series.has(key)) series.set(key, metrics.series(type, status));
    metrics.observe(series.get(key)!, seconds);
  };
  return { reference, ours, observe, metrics, series };
}

describe('NodeRunMetrics (node attempt durations and runs, without prom-client on the hot path)', () => {
  it('exposes exactly what prom-client Histogram and Counter expose for the same observations (text and JSON)', async () => {
    const { reference, ours, observe } = both();
    // every bucket, the bounds themselves (le is inclusive), above the last bound, zero, and sums that add up in floating point
    const values = [0, 0.0005, 0.001, 0.0011, 0.004, 0.005, 0.0099, 0.02, 0.049, 0.07, 0.2, 0.3, 0.9, 1, 2, 4, 9, 20, 45, 200, 1800, 1800.5, 7200];
    let i = 0;
    for (const type of ['core.set', 'core.http', 'example.greet']) {
      for (const v of values) observe(type, i++ % 5 === 0 ? 'failed' : 'succeeded', v * (1 + (i % 3) / 7));
    }
    expect(await ours.metrics()).toBe(await reference.metrics());
    expect(await ours.getMetricsAsJSON()).toEqual(await reference.getMetricsAsJSON());
  });

  it('does the same for an OpenMetrics registry (counter names without _total, then _total per line)', async () => {
    const { reference, ours, observe } = both(true);
    observe('core.set', 'succeeded', 0);
    observe('core.set', 'failed', 0.3);
    const text = await ours.metrics();
    expect(text).toContain('anchorflow_node_runs_total{type="core.set",status="failed"} 1');
    expect(text).toContain('# EOF');
    expect(text).toBe(await reference.metrics());
  });

  it('lists no series before its first observation, and ignores a duration that is not a number', async () => {
    const { ours, metrics } = both();
    const s = metrics.series('core.set', 'succeeded');
    expect(await ours.metrics()).not.toContain('core.set');
    expect(metrics.observe(s, Number.NaN)).toBe(false);
    expect(await ours.metrics()).not.toContain('core.set');
    expect(metrics.observe(s, 0.002)).toBe(true);
    const text = await ours.metrics();
    expect(text).toContain('anchorflow_node_runs_total{type="core.set",status="succeeded"} 1');
    expect(text).toContain('anchorflow_node_duration_seconds_bucket{le="0.001",type="core.set",status="succeeded"} 0');
    expect(text).toContain('anchorflow_node_duration_seconds_bucket{le="0.005",type="core.set",status="succeeded"} 1');
    expect(text).toContain('anchorflow_node_duration_seconds_count{type="core.set",status="succeeded"} 1');
  });

  it('resetMetrics empties both, as prom-client does', async () => {
    const { reference, ours, observe } = both();
    observe('core.set', 'succeeded', 0.2);
    reference.resetMetrics();
    ours.resetMetrics();
    expect(await ours.metrics()).toBe(await reference.metrics());
  });
});
