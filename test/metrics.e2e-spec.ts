/**
 * The metrics operators scrape, after a scripted workload on a real daemon in cluster mode (PostgreSQL,
 * NATS, one plugin worker, a real HTTP receiver): the exposition passes `promtool check metrics` (or,
 * without promtool, a Prometheus text-format parser), every family README "Monitoring" lists is there,
 * a waiting execution is counted, and the shipped alert rules and Grafana dashboard only name metrics
 * the daemon exposes (alert rules also pass `promtool check rules`).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { parse as parseYaml } from 'yaml';
import { Api } from './support/api.js';
import { REPO_ROOT, startDaemon, type Daemon } from './support/daemon.js';

/** /metrics is closed by default (issue 17): this suite scrapes the way Prometheus would, with a token */
const METRICS_TOKEN = 'metrics-e2e-token-0123456789';
import { chain, edge, manual, node, uid, workflow } from './support/graph.js';
import { startHttpReceiver, type HttpReceiver } from './support/http-receiver.js';
import { startWorker, type Worker } from './support/worker.js';
import { type NatsTestServer, natsForTests, reportSkip, uniquePrefix } from '../libs/transport/src/nats/spec-support/nats-test-server.js';

const PROMTOOL = ((): string | undefined => {
  const found = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
  return found.status === 0 ? 'promtool' : undefined;
})();
if (!PROMTOOL) reportSkip('metrics › promtool checks', 'promtool is not on PATH (apt-get install prometheus): the exposition is checked with a text-format parser instead, rules by their YAML shape');

const nats = await natsForTests('metrics');
if ('skip' in nats) reportSkip('metrics (daemon + worker over NATS)', nats.skip);
const describeNats = 'skip' in nats ? describe.skip : describe;

/** Every family the daemon must expose after the workload (README "Monitoring"). */
const FAMILIES = [
  'anchorflow_http_request_duration_seconds',
  'anchorflow_executions_started_total',
  'anchorflow_executions_finished_total',
  'anchorflow_execution_duration_seconds',
  'anchorflow_executions',
  'anchorflow_engine_live_executions',
  'anchorflow_engine_running_nodes',
  'anchorflow_ready_queue_depth',
  'anchorflow_ready_queue_oldest_seconds',
  'anchorflow_scheduler_lag_seconds',
  'anchorflow_node_runs_total',
  'anchorflow_node_duration_seconds',
  'anchorflow_node_retries_total',
  'anchorflow_store_flush_batch_events',
  'anchorflow_store_flush_duration_seconds',
  'anchorflow_store_failed_flushes_total',
  'anchorflow_store_pending_events',
  'anchorflow_db_pool_connections',
  'anchorflow_db_pool_waiting_requests',
  'anchorflow_nats_connected',
  'anchorflow_nats_jobs_dispatched_total',
  'anchorflow_nats_jobs_redelivered',
  'anchorflow_nats_live_workers',
  'anchorflow_plugins',
  'anchorflow_plugin_service_restarts_total',
  'anchorflow_audit_lag_seconds',
  'anchorflow_audit_pending_entries',
  'anchorflow_webhook_responses_total',
  'process_resident_memory_bytes',
  'nodejs_eventloop_lag_seconds',
];

let daemon: Daemon;
let worker: Worker;
let receiver: HttpReceiver;
let api: Api;
let exposition: string;
/** family name → type, as the text-format parser read them */
let families: Map<string, string>;

/** the value of the first sample of `name` carrying `labels`; histograms: their `_count` */
function valueOf(name: string, labels: Record<string, string> = {}): number | undefined {
  const series = families.get(name) === 'HISTOGRAM' ? `${name}_count` : name;
  for (const line of exposition.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!match || match[1] !== series) continue;
    const have = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(match[3]);
  }
  return undefined;
}

async function scrape(): Promise<string> {
  const res = await fetch(`${daemon.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  expect(res.status).toBe(200);
  return res.text();
}

/** throws on text that is not the Prometheus exposition format */
function parseExposition(text: string): typeof families {
  const parsed = parsePrometheusTextFormat(text) as Array<{ name: string; type: string }>;
  return new Map(parsed.map((f) => [f.name, f.type]));
}

describeNats('metrics after a scripted workload', () => {
  beforeAll(async () => {
    const server = nats as NatsTestServer;
    const prefix = uniquePrefix('metrics');
    receiver = await startHttpReceiver();
    daemon = await startDaemon({
      name: 'metrics',
      env: { NATS_URL: server.url, ANCHORFLOW_NATS_PREFIX: prefix, ANCHORFLOW_WORKERS_DISCOVERY_WINDOW_MS: '300', ANCHORFLOW_METRICS_TOKEN: METRICS_TOKEN },
    });
    worker = await startWorker({ natsUrl: server.url, prefix, name: 'metrics-worker' });
    api = new Api(daemon.url);
    // the daemon has seen the worker's node type
    const deadline = Date.now() + 20_000;
    for (;;) {
      const types = await api.get<{ items: Array<{ type: string }> }>('/api/v1/node-types');
      if (types.body.items?.some((t) => t.type === 'example.greet')) break;
      if (Date.now() > deadline) throw new Error('example.greet was not announced by the worker within 20 s');
      await new Promise((r) => setTimeout(r, 100));
    }

    const tag = uid();
    receiver.on(`/${tag}/flaky`, [{ status: 503 }, { status: 200, body: { ok: true } }]);
    receiver.on(`/${tag}/down`, { status: 400 });
    // webhook → flaky HTTP call (one retry) → a node served by the worker over NATS
    const hooked = await api.createWorkflow(workflow(`metrics hook ${tag}`, [
      node('hook', 'core.trigger.webhook', { path: `metrics/${tag}` }),
      node('call', 'core.http', { method: 'POST', url: `${receiver.url}/${tag}/flaky`, body: {} }, { retry: { maxAttempts: 3, backoffMs: 10, factor: 1, maxBackoffMs: 10 } }),
      node('greet', 'example.greet', { name: 'Ada' }),
    ], chain('hook', 'call', 'greet')));
    await api.activate(hooked.id);
    const hook = await fetch(`${daemon.url}/hooks/metrics/${tag}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(hook.status).toBe(202);
    const hookedRun = hook.headers.get('x-anchorflow-execution-id')!;
    await api.waitForStatus(hookedRun, 'succeeded', { timeoutMs: 30_000 });

    const failing = await api.createWorkflow(workflow(`metrics fail ${tag}`, [
      manual(), node('call', 'core.http', { method: 'POST', url: `${receiver.url}/${tag}/down`, body: {} }, { retry: { maxAttempts: 1 } }),
    ], chain('start', 'call')));
    expect((await api.run(failing.id, {})).status).toBe('failed');

    // an execution that waits (a long timer): counted as waiting
    const waiting = await api.createWorkflow(workflow(`metrics wait ${tag}`, [manual(), node('pause', 'core.wait', { ms: 3_600_000 })], [edge('start', 'pause')]));
    const waitingRun = await api.startExecution(waiting.id, {});
    await api.waitForStatus(waitingRun, 'waiting');

    expect((await api.get('/api/v1/executions/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    // the gauges of unfinished executions are cached for 2 s: read until the waiting one shows
    const until = Date.now() + 10_000;
    for (;;) {
      exposition = await scrape();
      families = parseExposition(exposition);
      if ((valueOf('anchorflow_executions', { status: 'waiting' }) ?? 0) >= 1 || Date.now() > until) break;
      await new Promise((r) => setTimeout(r, 250));
    }
  }, 120_000);

  afterAll(async () => {
    await worker?.stop();
    await daemon?.stop();
    await receiver?.close();
    await (nats as NatsTestServer).close();
  });

  it(`passes ${PROMTOOL ? '`promtool check metrics`' : 'the Prometheus text-format parser (promtool not on PATH)'}`, () => {
    if (PROMTOOL) {
      const check = spawnSync(PROMTOOL, ['check', 'metrics'], { input: exposition, encoding: 'utf8' });
      expect({ status: check.status, out: `${check.stdout}${check.stderr}`.trim() }).toEqual({ status: 0, out: '' });
    }
    expect(families.size).toBeGreaterThan(FAMILIES.length);
  });

  it('has every family operators expect, with values from the workload', () => {
    expect(FAMILIES.filter((f) => !families.has(f))).toEqual([]);
    expect({
      started: valueOf('anchorflow_executions_started_total'),
      failed: valueOf('anchorflow_executions_finished_total', { status: 'failed' }),
      succeeded: valueOf('anchorflow_executions_finished_total', { status: 'succeeded' }),
      waiting: valueOf('anchorflow_executions', { status: 'waiting' }),
      succeededDuration: valueOf('anchorflow_execution_duration_seconds', { status: 'succeeded' }),
      httpRetries: valueOf('anchorflow_node_retries_total', { type: 'core.http' }),
      greetRuns: valueOf('anchorflow_node_runs_total', { type: 'example.greet', status: 'succeeded' }),
      dispatched: valueOf('anchorflow_nats_jobs_dispatched_total', { type: 'example.greet' }),
      liveWorkers: valueOf('anchorflow_nats_live_workers', { type: 'example.greet' }),
      natsConnected: valueOf('anchorflow_nats_connected'),
      webhook202: valueOf('anchorflow_webhook_responses_total', { status: '202' }),
      pluginsLoaded: valueOf('anchorflow_plugins', { status: 'loaded' }),
      route404: valueOf('anchorflow_http_request_duration_seconds', { route: '/api/v1/executions/:id', status_class: '4xx' }),
    }).toEqual({
      started: 3, failed: 1, succeeded: 1, waiting: 1, succeededDuration: 1, httpRetries: 1, greetRuns: 1,
      dispatched: 1, liveWorkers: 1, natsConnected: 1, webhook202: 1, pluginsLoaded: expect.any(Number), route404: 1,
    });
    expect(valueOf('anchorflow_plugins', { status: 'loaded' })).toBeGreaterThanOrEqual(1);
    expect(valueOf('anchorflow_store_flush_batch_events')).toBeGreaterThan(0);
    expect(valueOf('anchorflow_db_pool_connections', { state: 'idle' })).toBeGreaterThanOrEqual(0);
    // raw paths never become labels
    expect(exposition).not.toContain('00000000-0000-4000-8000-000000000000');
  });

  /** metric names a PromQL expression reads (histogram series map to their family) */
  function metricsIn(expr: string): string[] {
    // a `__name__=~"…"` selector picks plugin metrics by pattern, not by name
    const names = expr.replace(/__name__=~"[^"]*"/g, '').match(/\b(anchorflow_[a-z0-9_]+|process_[a-z0-9_]+|nodejs_[a-z0-9_]+)\b/g) ?? [];
    return names.map((n) => (families.has(n) ? n : n.replace(/_(bucket|count|sum)$/, '')));
  }

  it('ships alert rules promtool accepts, on metrics the daemon exposes', () => {
    const file = path.join(REPO_ROOT, 'config/prometheus/alerts.yml');
    if (PROMTOOL) {
      const check = spawnSync(PROMTOOL, ['check', 'rules', file], { encoding: 'utf8' });
      expect({ status: check.status, out: check.stdout + check.stderr }).toMatchObject({ status: 0, out: expect.stringContaining('SUCCESS') });
    }
    const rules = (parseYaml(readFileSync(file, 'utf8')) as { groups: Array<{ rules: Array<{ alert: string; expr: string }> }> }).groups.flatMap((g) => g.rules);
    expect(rules.map((r) => r.alert)).toEqual(expect.arrayContaining([
      'AnchorflowExecutionsFailing', 'AnchorflowSchedulerLagging', 'AnchorflowStoreFlushFailing', 'AnchorflowAuditLagging', 'AnchorflowNoLiveWorker', 'AnchorflowObserverBehindHead',
    ]));
    const unknown = rules.flatMap((r) => metricsIn(r.expr).filter((m) => !families.has(m)).map((m) => `${r.alert}: ${m}`));
    expect(unknown).toEqual([]);
    // the one rule on a plugin metric names it by the plugin-metric convention
    expect(rules.find((r) => r.alert === 'AnchorflowObserverBehindHead')!.expr).toContain('__name__=~"anchorflow_plugin_.+_blocks_behind_head"');
  });

  it('ships a Grafana dashboard whose every query names a metric the daemon exposes', () => {
    const dashboard = JSON.parse(readFileSync(path.join(REPO_ROOT, 'config/grafana/anchorflow.json'), 'utf8')) as {
      title: string; uid: string; panels: Array<{ id: number; type: string; title: string; targets?: Array<{ expr: string; datasource?: { uid: string } }> }>;
    };
    expect(dashboard).toMatchObject({ title: 'Anchorflow', uid: 'anchorflow' });
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const queries = dashboard.panels.filter((p) => p.type !== 'row').flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr, ds: t.datasource?.uid })));
    expect(queries.length).toBeGreaterThan(20);
    const bad = queries.flatMap((q) => {
      const names = metricsIn(q.expr);
      if (names.length === 0) return [`${q.panel}: names no metric: ${q.expr}`];
      if (q.ds !== '${DS_PROMETHEUS}') return [`${q.panel}: datasource ${q.ds}`];
      return names.filter((m) => !families.has(m)).map((m) => `${q.panel}: ${m}`);
    });
    expect(bad).toEqual([]);
    // and the other way round: every family of the workload list is on the dashboard
    const shown = new Set(queries.flatMap((q) => metricsIn(q.expr)));
    expect(FAMILIES.filter((f) => !shown.has(f) && !['anchorflow_audit_pending_entries'].includes(f) && !f.startsWith('anchorflow_engine_'))).toEqual([]);
  });
});
