import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { createTestDatabase, type TestDatabase } from '@anchorflow/persistence/testing';
import { generateApiKey } from '@anchorflow/security';
import { pino } from 'pino';
import request from 'supertest';
import { loadConfig, readConfigFiles } from './config/load-config.js';
import { createApp } from './create-app.js';
import { openDatabaseFromConfig } from './core/database/persistence.providers.js';
import { EngineLifecycle } from './engine/engine-lifecycle.service.js';

/**
 * The real daemon (Nest app, engine, PostgreSQL adapters) against the PostgreSQL on 127.0.0.1:5432
 * (PG_TEST_URL), a fresh database per run. Skipped with a notice when no server answers.
 */
const testDb: TestDatabase | undefined = await createTestDatabase();
const describeDb = testDb ? describe : describe.skip;

describeDb('daemon on PostgreSQL', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'af-daemon-e2e-'));
  const env = { DATABASE_URL: testDb?.url ?? '', ANCHORFLOW_DATA_DIR: dataDir, ANCHORFLOW_LOG_LEVEL: 'silent', ANCHORFLOW_HOOKS_RESPONSE_TIMEOUT_MS: '5000' };
  const config = loadConfig(env, readConfigFiles(env));
  const logger = pino({ level: 'silent' });
  const apps: INestApplication[] = [];
  // provisioned as ANCHORFLOW_ADMIN_KEY: every route but health and webhooks needs a key
  const adminKey = generateApiKey().secret;
  const authed = (a: INestApplication) => request.agent(a.getHttpServer()).set('Authorization', `Bearer ${adminKey}`);

  async function boot(): Promise<INestApplication> {
    const database = await openDatabaseFromConfig(config, logger);
    const app = await createApp({ config, database, logger, shutdownHooks: false, security: { env: { ...env, ANCHORFLOW_ADMIN_KEY: adminKey } } });
    await app.init();
    await app.get(EngineLifecycle).start();
    apps.push(app);
    return app;
  }

  // the newest daemon that is still up: a test that restarts (closes the first) may run before the others
  const current = (): INestApplication => apps.at(-1)!;
  beforeAll(async () => {
    await boot();
  });

  afterAll(async () => {
    for (const a of apps) await a.close().catch(() => undefined);
    await testDb?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('is ready once the database answers', async () => {
    const res = await request(current().getHttpServer()).get('/api/v1/health/ready').expect(200);
    expect(res.body.info.database.status).toBe('up');
  });

  it('runs a workflow durably: execution, node runs and history come back from PostgreSQL', async () => {
    const http = authed(current());
    const { body: wf } = await http
      .post('/api/v1/workflows')
      .send({
        name: 'branch',
        nodes: [
          { id: 'start', type: 'core.trigger.manual' },
          { id: 'check', type: 'core.if', params: { condition: 'amount > 100' } },
          { id: 'big', type: 'core.set', params: { fields: { size: 'big' } } },
          { id: 'small', type: 'core.set', params: { fields: { size: 'small' } } },
        ],
        edges: [
          { from: 'start', to: 'check' },
          { from: 'check', fromPort: 'true', to: 'big' },
          { from: 'check', fromPort: 'false', to: 'small' },
        ],
      })
      .expect(201);
    const run = await http.post(`/api/v1/workflows/${wf.id}/executions?wait=10000`).send({ input: { amount: 500 } }).expect(200);
    expect(run.body.status).toBe('succeeded');
    const byNode = Object.fromEntries(run.body.nodeRuns.map((r: { nodeId: string; status: string }) => [r.nodeId, r.status]));
    expect(byNode).toMatchObject({ start: 'succeeded', check: 'succeeded', big: 'succeeded', small: 'skipped' });

    const events = await http.get(`/api/v1/executions/${run.body.id}/events`).expect(200);
    expect(events.body.items[0]).toMatchObject({ seq: 1, type: 'execution.started' });
    expect(events.body.items.at(-1)).toMatchObject({ type: 'execution.finished', status: 'succeeded' });
    const list = await http.get(`/api/v1/executions?workflowId=${wf.id}`).expect(200);
    expect(list.body.items.map((e: { id: string }) => e.id)).toEqual([run.body.id]);
    await http.get('/api/v1/executions/00000000-0000-4000-8000-000000000000').expect(404);
  });

  it('serves webhooks from the in-memory index; activation survives a restart', async () => {
    const http = authed(current());
    const { body: wf } = await http
      .post('/api/v1/workflows')
      .send({
        name: 'hook',
        nodes: [
          { id: 'hook', type: 'core.trigger.webhook', params: { path: 'e2e/echo', respond: 'lastNode', publicOutput: true } },
          { id: 'double', type: 'core.set', params: { fields: { doubled: '=n * 2' } } },
        ],
        edges: [{ from: 'hook', to: 'double' }],
      })
      .expect(201);
    await http.post(`/api/v1/workflows/${wf.id}/activate`).expect(200);
    const res = await http.post('/hooks/e2e/echo').send({ n: 21 }).expect(200);
    expect(res.body).toEqual({ n: 21, doubled: 42 });
    const executionId = res.headers['x-anchorflow-execution-id'];
    const stored = await http.get(`/api/v1/executions/${executionId}`).expect(200);
    expect(stored.body).toMatchObject({ status: 'succeeded', triggerNodeId: 'hook', input: { n: 21 } });

    const second = await boot();
    const again = await request(second.getHttpServer()).post('/hooks/e2e/echo').send({ n: 1 }).expect(200);
    expect(again.body).toEqual({ n: 1, doubled: 2 });
  });

  it('an execution interrupted by a shutdown finishes after the next start', async () => {
    // one daemon at a time on this database from here on (no leases between daemons yet)
    for (const a of apps.splice(0)) await a.close();
    const first = await boot();
    const http = authed(first);
    const { body: wf } = await http
      .post('/api/v1/workflows')
      .send({
        name: 'pause',
        nodes: [
          { id: 'start', type: 'core.trigger.manual' },
          { id: 'pause', type: 'core.wait', params: { ms: 1500 } },
          { id: 'after', type: 'core.set', params: { fields: { done: true } } },
        ],
        edges: [
          { from: 'start', to: 'pause' },
          { from: 'pause', to: 'after' },
        ],
      })
      .expect(201);
    const { body } = await http.post(`/api/v1/workflows/${wf.id}/executions`).send({ input: {} }).expect(202);
    await first.close();

    const next = await boot();
    const deadline = Date.now() + 15_000;
    let status = '';
    let nodeRuns: Array<{ nodeId: string; status: string; attempt: number }> = [];
    while (Date.now() < deadline) {
      const res = await authed(next).get(`/api/v1/executions/${body.executionId}`).expect(200);
      ({ status, nodeRuns } = res.body);
      if (status === 'succeeded' || status === 'failed') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe('succeeded');
    expect(nodeRuns.find((r) => r.nodeId === 'start')).toMatchObject({ status: 'succeeded', attempt: 1 });
    expect(nodeRuns.find((r) => r.nodeId === 'after')).toMatchObject({ status: 'succeeded' });
  });
});
