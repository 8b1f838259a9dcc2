/**
 * GET /metrics of the whole daemon on in-memory ports: HTTP requests by route template, executions
 * waiting counted while no engine holds them (the old queue-depth gauge read 0), plugin metrics through
 * ctx.metrics under the plugin's prefix. (PostgreSQL-only families: test/metrics.e2e-spec.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import corePlugin from '@anchorflow/plugin-core';
import { definePlugin, defineNode } from '@anchorflow/plugin-sdk';
import request from 'supertest';
import { createMemoryApp, type MemoryApp } from '../testing/memory-app.js';

class NoParams {}

const approvalNode = defineNode<NoParams>({
  type: 'metricstest.approval',
  version: 1,
  title: 'Approval',
  category: 'flow',
  inputs: ['main'],
  outputs: ['main'],
  params: NoParams,
  async execute(ctx, input) {
    if (ctx.resume) {
      ctx.metrics.counter('approvals_total', 'Approvals decided', ['decision']).inc({ decision: 'approved' });
      return { main: { input, data: ctx.resume.data } };
    }
    ctx.metrics.gauge('asked', 'Approvals asked for').inc();
    return ctx.suspend({ token: `approve-${ctx.executionId}` });
  },
});

const testPlugin = definePlugin({ name: '@acme/metrics-test', version: '1.0.0', nodes: [approvalNode] });

let m: MemoryApp;
let http: ReturnType<typeof request>;
const auth = (): Record<string, string> => ({ Authorization: `Bearer ${m.adminKey}` });

beforeAll(async () => {
  // metrics.public: a scraper on a trusted network, no token (the default refuses: see below)
  m = await createMemoryApp({ plugins: [corePlugin, testPlugin], env: { ANCHORFLOW_METRICS_PUBLIC: 'true' } });
  http = request(m.app.getHttpServer());
});

afterAll(async () => {
  await m?.close();
});

async function scrape(): Promise<string> {
  const res = await http.get('/metrics').expect(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain/);
  return res.text;
}

/** the value of one series, e.g. sample(text, 'anchorflow_executions', { status: 'waiting' }) */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const match = /^([^{\s]+)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const have = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(match[3]);
  }
  return undefined;
}

async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('GET /metrics', () => {
  it('is closed by default: with no metrics.token and metrics.public false, every scrape gets 401 saying what to set', async () => {
    const closed = await createMemoryApp({ plugins: [corePlugin] });
    try {
      const res = await request(closed.app.getHttpServer()).get('/metrics').expect(401);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="metrics"');
      expect(res.body.error.message).toMatch(/metrics\.token .*metrics\.public: true/);
      // an admin API key is not a metrics token
      await request(closed.app.getHttpServer()).get('/metrics').set('Authorization', `Bearer ${closed.adminKey}`).expect(401);
    } finally {
      await closed.close();
    }
  });

  it('wants the token when one is set, even with metrics.public', async () => {
    const both = await createMemoryApp({ plugins: [corePlugin], env: { ANCHORFLOW_METRICS_TOKEN: 'metrics-token-both-0123', ANCHORFLOW_METRICS_PUBLIC: 'true' } });
    try {
      await request(both.app.getHttpServer()).get('/metrics').expect(401);
      await request(both.app.getHttpServer()).get('/metrics').set('Authorization', 'Bearer metrics-token-both-0123').expect(200);
    } finally {
      await both.close();
    }
  });

  it('counts a waiting execution as waiting even after the engine let go of it, and reports plugin metrics under the plugin prefix', async () => {
    const wf = await http.post('/api/v1/workflows').set(auth()).send({
      name: 'approval',
      nodes: [{ id: 'start', type: 'core.trigger.manual' }, { id: 'approve', type: 'metricstest.approval' }],
      edges: [{ from: 'start', to: 'approve' }],
    }).expect(201);
    const started = await http.post(`/api/v1/workflows/${wf.body.id}/executions`).set(auth()).send({ input: {} }).expect(202);
    const executionId = started.body.executionId as string;
    // the execution parks on its token; the engine drops it from memory once that is durable
    await eventually(async () => (await http.get(`/api/v1/executions/${executionId}`).set(auth())).body.status === 'waiting', 'the execution to wait');
    await eventually(async () => m.engine.liveExecutions === 0, 'the engine to let go of the waiting execution');

    // the counts are cached for 2 s between scrapes (an earlier test may just have scraped)
    await eventually(async () => sample(await scrape(), 'anchorflow_executions', { status: 'waiting' }) === 1, 'the waiting gauge to count it', 5000);
    let text = await scrape();
    expect(sample(text, 'anchorflow_executions', { status: 'waiting' })).toBe(1);
    expect(sample(text, 'anchorflow_executions', { status: 'running' })).toBe(0);
    expect(sample(text, 'anchorflow_engine_live_executions')).toBe(0);
    expect(sample(text, 'anchorflow_plugin_acme_metrics_test_asked')).toBe(1);

    await http.post(`/api/v1/resume/approve-${executionId}`).set(auth()).send({ data: { ok: true } }).expect(202);
    await eventually(async () => (await http.get(`/api/v1/executions/${executionId}`).set(auth())).body.status === 'succeeded', 'the execution to finish');
    // the counts are cached for 2 s between scrapes
    await eventually(async () => sample(await scrape(), 'anchorflow_executions', { status: 'waiting' }) === 0, 'the waiting gauge to drop', 5000);
    text = await scrape();
    expect(sample(text, 'anchorflow_plugin_acme_metrics_test_approvals_total', { decision: 'approved' })).toBe(1);
    expect(sample(text, 'anchorflow_executions_finished_total', { status: 'succeeded' })).toBe(1);
    expect(sample(text, 'anchorflow_execution_duration_seconds_count', { status: 'succeeded' })).toBe(1);
    expect(sample(text, 'anchorflow_node_runs_total', { type: 'metricstest.approval', status: 'succeeded' })).toBeGreaterThanOrEqual(1);
  });

  it('labels HTTP requests by route template and status class, never by raw path', async () => {
    const id = '0b9e9d3c-1111-4aaa-8bbb-123456789abc';
    await http.get(`/api/v1/executions/${id}`).set(auth()).expect(404);
    await http.get('/api/v1/no-such-route').set(auth()).expect(404);
    await http.get('/api/v1/health').expect(200);
    const text = await scrape();
    expect(text).not.toContain(id);
    expect(text).not.toContain('no-such-route');
    expect(sample(text, 'anchorflow_http_request_duration_seconds_count', { method: 'GET', route: '/api/v1/executions/:id', status_class: '4xx' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'anchorflow_http_request_duration_seconds_count', { method: 'GET', route: 'unmatched', status_class: '4xx' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'anchorflow_http_request_duration_seconds_count', { method: 'GET', route: '/api/v1/health', status_class: '2xx' })).toBeGreaterThanOrEqual(1);
  });

  it('names plugin metrics after the package, without the @anchorflow scope and the plugin- prefix', async () => {
    const { pluginMetricName } = await import('@anchorflow/plugin-host');
    expect(['@anchorflow/plugin-chain-anchor', '@anchorflow/plugin-example', '@acme/anchorflow-plugin-greet', '@acme/metrics-test', 'my-plugin'].map(pluginMetricName))
      .toEqual(['chain_anchor', 'example', 'acme_greet', 'acme_metrics_test', 'my_plugin']);
  });

  it('refuses plugin metric names Prometheus would not accept, with the name in the message', async () => {
    const { DaemonMetrics } = await import('../core/daemon-metrics.js');
    const metrics = new DaemonMetrics().pluginMetrics('@acme/x');
    expect(() => metrics.counter('sent', 'no _total')).toThrow(/sent: Prometheus counter names end in _total/);
    expect(() => metrics.gauge('bad-name', 'dash')).toThrow(/"bad-name"/);
    metrics.gauge('depth', 'ok');
    expect(() => metrics.histogram('depth', 'same name, other kind')).toThrow(/depth is a gauge, not a histogram/);
  });
});
