/**
 * A client generated from the OpenAPI document drives a real daemon: openapi-fetch typed by
 * test/support/openapi-types.ts (openapi-typescript output of apps/daemon/openapi.json, kept equal to the
 * served document by apps/daemon/src/openapi/openapi.memory.spec.ts). If a route, a parameter or a body
 * shape drifts from the document, this file stops type-checking (`npm run build`) or this flow fails.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import createClient from 'openapi-fetch';
import { testAdminKey } from './support/e2e-env.js';
import { startDaemon, type Daemon } from './support/daemon.js';
import type { paths } from './support/openapi-types.js';
import { runCli } from './support/cli.js';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './support/daemon.js';

let daemon: Daemon;
let client: ReturnType<typeof createClient<paths>>;

beforeAll(async () => {
  daemon = await startDaemon({ name: 'openapi-client' });
  client = createClient<paths>({ baseUrl: daemon.url, headers: { Authorization: `Bearer ${testAdminKey()}` } });
}, 120_000);

afterAll(async () => {
  await daemon?.stop();
});

describe('the generated OpenAPI client', () => {
  it('creates a workflow, runs it, reads the execution, its list entry and its events', async () => {
    const created = await client.POST('/api/v1/workflows', {
      body: {
        name: `openapi client ${Date.now()}`,
        nodes: [
          { id: 'start', type: 'core.trigger.manual' },
          { id: 'greet', type: 'core.set', params: { fields: { greeting: '="hello " & name' } } },
        ],
        edges: [{ from: 'start', to: 'greet' }],
      },
    });
    expect(created.response.status).toBe(201);
    const workflowId = created.data!.id;
    expect(created.data!.version).toBe(1);

    const run = await client.POST('/api/v1/workflows/{id}/executions', {
      params: { path: { id: workflowId }, query: { wait: 10_000 } },
      body: { input: { name: 'Ada' } },
    });
    expect(run.response.status).toBe(200);
    const finished = run.data!;
    // 200 (finished within ?wait) answers the execution, 202 only its reference: the types say which
    if (!('nodeRuns' in finished)) throw new Error(`not finished within 10 s: ${JSON.stringify(finished)}`);
    expect(finished.status).toBe('succeeded');
    const executionId = finished.id;

    const got = await client.GET('/api/v1/executions/{id}', { params: { path: { id: executionId } } });
    expect(got.data).toMatchObject({ id: executionId, workflowId, status: 'succeeded' });
    expect(got.data!.nodeRuns.map((r) => [r.nodeId, r.status])).toEqual([['start', 'succeeded'], ['greet', 'succeeded']]);
    expect(got.data!.output).toEqual({ greet: expect.objectContaining({ greeting: 'hello Ada' }) });

    const listed = await client.GET('/api/v1/executions', { params: { query: { workflowId, limit: 10 } } });
    expect(listed.data!.items.map((e) => e.id)).toEqual([executionId]);

    const events = await client.GET('/api/v1/executions/{id}/events', { params: { path: { id: executionId }, query: { limit: 100 } } });
    const types = events.data!.items.map((e) => e.type);
    expect(types[0]).toBe('execution.started');
    expect(types.at(-1)).toBe('execution.finished');
    expect(events.data!.items.every((e) => e.executionId === executionId)).toBe(true);
  });

  it('gets the documented error envelope: 404 for an unknown execution, 409 for cancelling a finished one', async () => {
    const missing = await client.GET('/api/v1/executions/{id}', { params: { path: { id: '00000000-0000-4000-8000-000000000000' } } });
    expect(missing.response.status).toBe(404);
    expect(missing.error!.error.code).toBe('NOT_FOUND');

    const wf = await client.POST('/api/v1/workflows', {
      body: { name: `openapi cancel ${Date.now()}`, nodes: [{ id: 'start', type: 'core.trigger.manual' }], edges: [] },
    });
    const run = await client.POST('/api/v1/workflows/{id}/executions', { params: { path: { id: wf.data!.id }, query: { wait: 10_000 } }, body: {} });
    expect(run.response.status).toBe(200);
    // cancel takes no body (documented as optional)
    if (!('nodeRuns' in run.data!)) throw new Error('not finished within 10 s');
    const cancel = await client.POST('/api/v1/executions/{id}/cancel', { params: { path: { id: run.data.id } } });
    expect(cancel.response.status).toBe(409);
    expect(cancel.error!.error.code).toBe('EXECUTION_FINISHED');
  });

  it('reads the public health route without credentials', async () => {
    const anonymous = createClient<paths>({ baseUrl: daemon.url });
    const live = await anonymous.GET('/api/v1/health');
    expect(live.data).toMatchObject({ status: 'ok', uptimeMs: expect.any(Number) });
  });

  it('is generated from the document `anchorflow openapi` prints (no database needed), which the daemon serves', async () => {
    const printed = await runCli(['openapi'], { env: { DATABASE_URL: undefined } });
    expect({ code: printed.code, stderr: printed.stderr }).toEqual({ code: 0, stderr: '' });
    const committed = readFileSync(path.join(REPO_ROOT, 'apps/daemon/openapi.json'), 'utf8');
    expect(printed.stdout).toBe(committed);
    const served = await fetch(`${daemon.url}/api/docs/openapi.json`);
    expect(await served.json()).toEqual(JSON.parse(committed));
  });
});
