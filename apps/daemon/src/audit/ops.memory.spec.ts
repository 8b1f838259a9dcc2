import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { verifyChain, type AuditEntry } from '@anchorflow/security';
import { definePlugin, defineService, type ServiceHealth } from '@anchorflow/plugin-sdk';
import request from 'supertest';
import { createMemoryApp, type MemoryApp } from '../testing/memory-app.js';
import { ReadinessRegistry } from '../health/readiness-registry.js';
import { AuditService } from './audit.service.js';
import { auditedExecutionEvents } from './audit-entries.js';

/** Audit log, metrics and the drain on the in-memory app (no PostgreSQL): the HTTP contract of issue 4 ops. */
describe('operations over HTTP (in-memory ports)', () => {
  let t: MemoryApp;
  let http: ReturnType<typeof request.agent>;
  let anonymous: ReturnType<typeof request>;
  let actor: string;

  const flow = {
    name: 'ops',
    nodes: [
      { id: 'start', type: 'core.trigger.manual', params: {} },
      { id: 'add', type: 'core.set', params: { fields: { doubled: '=n * 2' } } },
    ],
    edges: [{ from: 'start', to: 'add' }],
  };

  beforeAll(async () => {
    t = await createMemoryApp({ env: { ANCHORFLOW_METRICS_TOKEN: 'metrics-token-0123456789' } });
    http = request.agent(t.app.getHttpServer()).set('Authorization', `Bearer ${t.adminKey}`);
    anonymous = request(t.app.getHttpServer());
    actor = `key:${t.adminKey.split('_')[1]}`;
  });
  afterAll(async () => {
    await t?.close();
  });

  async function allEntries(): Promise<AuditEntry[]> {
    await t.app.get(AuditService).flush();
    const out: AuditEntry[] = [];
    let after = 0;
    for (;;) {
      const page = await http.get(`/api/v1/audit?afterSeq=${after}&limit=7`).expect(200);
      out.push(...page.body.items);
      if (page.body.nextAfterSeq === undefined) return out;
      after = page.body.nextAfterSeq;
    }
  }

  it('records state-changing API calls and every execution event in one verifiable chain', async () => {
    const created = await http.post('/api/v1/workflows').send(flow).expect(201);
    const wf = created.body.id as string;
    await http.put(`/api/v1/workflows/${wf}`).send({ ...flow, name: 'ops v2', version: 1 }).expect(200);
    await http.post('/api/v1/workflows').send({ name: 'bad', nodes: [], edges: [] }).expect(400);
    const run = await http.post(`/api/v1/workflows/${wf}/executions?wait=5000`).send({ input: { n: 2, password: 'p4ssw0rd-in-input' } }).expect(200);
    const exec = run.body.id as string;
    await http.get(`/api/v1/workflows/${wf}`).expect(200);
    // a POST that only computes (layout) changes nothing: not audited
    await http.post('/api/v1/workflows/layout').send({ nodes: flow.nodes, edges: flow.edges }).expect(200);

    const entries = await allEntries();
    expect(await verifyChain(entries)).toMatchObject({ ok: true, count: entries.length });
    // the calls of this test (others may have run before it)
    const api = entries.filter((e) => e.actor !== 'system' && (e.target === `workflow:${wf}` || e.target === `execution:${exec}`));
    expect(api.map((e) => [e.actor, e.action, e.target])).toEqual([
      [actor, 'workflows.create', `workflow:${wf}`],
      // every change's attempt is committed before the change runs (issue 17), its outcome after
      [actor, 'workflows.update.attempt', `workflow:${wf}`],
      [actor, 'workflows.update', `workflow:${wf}`],
      [actor, 'executions.start.attempt', `workflow:${wf}`],
      [actor, 'executions.start', `execution:${exec}`],
    ]);
    expect(api[0]!.details).toMatchObject({ method: 'POST', route: '/api/v1/workflows', status: 201, id: wf, version: 1 });
    // the execution's events, each listed in the entry of its turn
    const events = auditedExecutionEvents(entries, exec).map((x) => x.action);
    expect(events).toEqual(['execution.started', 'execution.node.succeeded', 'execution.node.succeeded', 'execution.finished']);
    expect(JSON.stringify(entries)).not.toContain('p4ssw0rd-in-input');
  });

  it('audits failed authentications and denied calls with the client address, folding a flood into one entry per client', async () => {
    const before = (await allEntries()).length;
    const wrong = `afk_${'z'.repeat(40)}`;
    for (let i = 0; i < 30; i++) await anonymous.get('/api/v1/workflows').set('Authorization', `Bearer ${wrong}`).expect(401);
    const viewer = await http.post('/api/v1/keys').send({ name: `viewer ${Date.now()}`, role: 'viewer' }).expect(201);
    await anonymous.post('/api/v1/workflows').set('Authorization', `Bearer ${viewer.body.secret}`).send(flow).expect(403);
    const entries = (await allEntries()).slice(before);
    const failed = entries.filter((e) => e.action === 'auth.failed');
    // 30 failures from one client within the window: one entry now (the rest are folded into one at the window's end)
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ actor: 'anonymous', target: 'WorkflowsController.list', details: { client: expect.stringMatching(/127\.0\.0\.1/), method: 'GET', code: 'UNAUTHORIZED', count: 1 } });
    const denied = entries.filter((e) => e.action === 'auth.denied');
    expect(denied).toEqual([expect.objectContaining({ actor: `key:${viewer.body.id}`, target: 'WorkflowsController.create', details: expect.objectContaining({ role: 'viewer', permission: 'workflows:write', client: expect.stringMatching(/127\.0\.0\.1/) }) })]);
    expect(JSON.stringify(entries)).not.toContain(wrong);
    expect(JSON.stringify(entries)).not.toContain(viewer.body.secret);
  });

  it('serves the chain head and validates paging parameters', async () => {
    // something to chain, whichever test ran before
    await http.post('/api/v1/workflows').send({ name: `head ${Date.now()}`, nodes: [{ id: 'start', type: 'core.trigger.manual', params: {} }], edges: [] }).expect(201);
    await t.app.get(AuditService).flush();
    const { body } = await http.get('/api/v1/audit/head').expect(200);
    const entries = await allEntries();
    expect(body.head).toEqual({ seq: entries.at(-1)!.seq, hash: entries.at(-1)!.hash });
    const bad = await http.get('/api/v1/audit?afterSeq=-1&limit=100000').expect(400);
    expect(bad.body.error.code).toBe('INVALID_REQUEST');
  });

  it('exposes Prometheus metrics behind the metrics token, with the named series after a run', async () => {
    // the run (whichever test ran before)
    const wf = await http.post('/api/v1/workflows').send({
      name: `metrics ${Date.now()}`,
      nodes: [{ id: 'start', type: 'core.trigger.manual', params: {} }, { id: 'set', type: 'core.set', params: { fields: { x: 1 } } }],
      edges: [{ from: 'start', to: 'set' }],
    }).expect(201);
    await http.post(`/api/v1/workflows/${wf.body.id}/executions?wait=5000`).send({ input: {} }).expect(200);
    await anonymous.get('/metrics').expect(401);
    await http.get('/metrics').expect(401);
    await anonymous.get('/metrics').set('Authorization', 'Bearer wrong-token-000000000').expect(401);
    const res = await anonymous.get('/metrics').set('Authorization', 'Bearer metrics-token-0123456789').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    const text = res.text;
    for (const series of [
      'anchorflow_executions_started_total',
      'anchorflow_executions_finished_total{status="succeeded"}',
      'anchorflow_executions{status="running"}',
      'anchorflow_node_duration_seconds_bucket{le="0.001",type="core.set",status="succeeded"}',
      'anchorflow_node_duration_seconds_count{type="core.trigger.manual",status="succeeded"}',
      'anchorflow_node_retries_total',
      'anchorflow_socket_clients 0',
      'anchorflow_audit_entries_written_total',
      'anchorflow_audit_batches_total',
      'anchorflow_audit_pending_entries',
      'process_cpu_user_seconds_total',
      'nodejs_eventloop_lag_seconds',
    ]) expect({ series, present: text.includes(series) }).toEqual({ series, present: true });
    expect(Number(/^anchorflow_executions_started_total (\d+)/m.exec(text)?.[1])).toBeGreaterThanOrEqual(1);
    // the execution's events were audited: at least one committed batch, never more batches than entries
    const batches = Number(/^anchorflow_audit_batches_total (\d+)/m.exec(text)?.[1]);
    expect(batches).toBeGreaterThanOrEqual(1);
    expect(Number(/^anchorflow_audit_entries_written_total (\d+)/m.exec(text)?.[1])).toBeGreaterThanOrEqual(batches);
    await http.get('/api/v1/metrics').expect(404);
  });

  it('reports each registered daemon-side check as its own readiness indicator', async () => {
    const registry = t.app.get(ReadinessRegistry);
    const ready = await anonymous.get('/api/v1/health/ready').expect(200);
    expect(Object.keys(ready.body.info)).toEqual(['database']);
    const unregisterUp = registry.register('chain:evm:local', async () => 7);
    const unregisterDown = registry.register('chain:casper:test', async () => { throw new Error('connect ECONNREFUSED 127.0.0.1:7777'); });
    const down = await anonymous.get('/api/v1/health/ready').expect(503);
    expect(down.body.error.code).toBe('NOT_READY');
    expect(down.body.error.details.info).toMatchObject({ database: { status: 'up' }, 'chain:evm:local': { status: 'up' } });
    expect(down.body.error.details.error).toMatchObject({ 'chain:casper:test': { status: 'down', message: 'connect ECONNREFUSED 127.0.0.1:7777' } });
    unregisterDown();
    await anonymous.get('/api/v1/health/ready').expect(200);
    unregisterUp();
  });

  it('lists what plugin services report through ctx.health: degraded keeps 200 naming the failing URL, down answers 503, a cleared report leaves', async () => {
    let health: ServiceHealth | undefined;
    const plugin = definePlugin({
      name: '@acme/plugin-rpc-probe', version: '1.0.0', nodes: [],
      services: [defineService({ name: 'prober', scope: 'every-daemon', start: (ctx) => { health = ctx.health; return () => {}; } })],
    });
    const own = await createMemoryApp({ plugins: [plugin] });
    try {
      const probe = request(own.app.getHttpServer());
      const deadline = Date.now() + 10_000;
      while (!health) {
        if (Date.now() > deadline) throw new Error('the service did not start');
        await new Promise((r) => setTimeout(r, 20));
      }
      health.report('network:local', { state: 'degraded', detail: 'failing: rpcUrls[1] https://rpc.example (eth_chainId: ECONNREFUSED)', components: { 'rpcUrls[0] https://a.example': { state: 'ok' }, 'rpcUrls[1] https://rpc.example': { state: 'down', detail: 'eth_chainId: ECONNREFUSED' } } });
      const degraded = await probe.get('/api/v1/health/ready').expect(200);
      expect(degraded.body.status).toBe('degraded');
      expect(degraded.body.info['rpc-probe:network:local']).toEqual({
        status: 'degraded', state: 'degraded', service: 'prober', since: expect.any(String),
        detail: 'failing: rpcUrls[1] https://rpc.example (eth_chainId: ECONNREFUSED)',
        components: { 'rpcUrls[0] https://a.example': { state: 'ok' }, 'rpcUrls[1] https://rpc.example': { state: 'down', detail: 'eth_chainId: ECONNREFUSED' } },
      });
      health.report('network:local', { state: 'down', detail: 'every endpoint failed' });
      const down = await probe.get('/api/v1/health/ready').expect(503);
      expect(down.body.error.code).toBe('NOT_READY');
      expect(down.body.error.details.error['rpc-probe:network:local']).toMatchObject({ status: 'down', detail: 'every endpoint failed' });
      expect(down.body.error.details.info).toMatchObject({ database: { status: 'up' } });
      health.report('network:local', { state: 'ok' });
      const ok = await probe.get('/api/v1/health/ready').expect(200);
      expect(ok.body).toMatchObject({ status: 'ok', info: { 'rpc-probe:network:local': { status: 'up', state: 'ok' } } });
      health.clear('network:local');
      expect(Object.keys((await probe.get('/api/v1/health/ready').expect(200)).body.info)).toEqual(['database']);
    } finally {
      await own.close();
    }
  });

  it('drains on close: the audit buffer is written before the app is gone', async () => {
    // an app of its own: the other tests keep theirs, whatever the order
    const own = await createMemoryApp();
    const audit = own.app.get(AuditService);
    audit.record({ actor: 'system', action: 'test.last-words', target: 'test' });
    await own.close();
    const log = audit.store as unknown as { entries: AuditEntry[] };
    expect(log.entries.at(-1)?.action).toBe('test.last-words');
    expect(audit.stats().pending).toBe(0);
  });
});
