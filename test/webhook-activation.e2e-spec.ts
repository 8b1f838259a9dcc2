/**
 * Activating a public trigger starts executions (issue 17): an editor (workflows:write, no executions:run)
 * may save a webhook workflow but not turn it on, nor slip a webhook into a workflow that is already on.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Api } from './support/api.js';
import { startDaemon, type Daemon } from './support/daemon.js';
import { chain, manual, node, uid, workflow } from './support/graph.js';

let daemon: Daemon;
let admin: Api;

beforeAll(async () => {
  daemon = await startDaemon({ name: 'webhook-activation' });
  admin = new Api(daemon.url);
}, 120_000);

afterAll(async () => {
  await daemon?.stop();
});

async function clientFor(role: string): Promise<Api> {
  const res = await admin.request('POST', '/api/v1/keys', { name: `${role} ${uid()}`, role });
  expect(res.status).toBe(201);
  return new Api(daemon.url, { apiKey: res.body.secret });
}

const hook = () => node('hook', 'core.trigger.webhook', { path: `act-${uid()}` });

describe('activation of a public trigger needs executions:run', () => {
  it('refuses an editor, lets an admin', async () => {
    const editor = await clientFor('editor');
    const created = await editor.createWorkflow(workflow(`hook ${uid()}`, [hook(), node('done', 'core.set', { fields: { ok: true } })], chain('hook', 'done')));
    const denied = await editor.request('POST', `/api/v1/workflows/${created.id}/activate`);
    expect(denied.status).toBe(403);
    expect(denied.body.error).toMatchObject({ code: 'FORBIDDEN', message: expect.stringContaining("lacks permission 'executions:run'") });
    expect((await admin.request('GET', `/api/v1/workflows/${created.id}`)).body.active).toBe(false);
    expect((await admin.request('POST', `/api/v1/workflows/${created.id}/activate`)).status).toBe(200);
  });

  it('lets an editor activate a workflow without a public trigger', async () => {
    const editor = await clientFor('editor');
    const created = await editor.createWorkflow(workflow(`manual ${uid()}`, [manual(), node('done', 'core.set', { fields: { ok: true } })], chain('start', 'done')));
    expect((await editor.request('POST', `/api/v1/workflows/${created.id}/activate`)).status).toBe(200);
  });

  it('refuses an editor adding a webhook to an active workflow', async () => {
    const editor = await clientFor('editor');
    const created = await editor.createWorkflow(workflow(`grow ${uid()}`, [manual(), node('done', 'core.set', { fields: {} })], chain('start', 'done')));
    expect((await editor.request('POST', `/api/v1/workflows/${created.id}/activate`)).status).toBe(200);
    const current = (await editor.request('GET', `/api/v1/workflows/${created.id}`)).body;
    const res = await editor.request('PUT', `/api/v1/workflows/${created.id}`, { ...workflow(current.name, [manual(), hook(), node('done', 'core.set', { fields: {} })], chain('start', 'done')), version: current.version });
    expect(res.status).toBe(403);
    expect((await admin.request('GET', `/api/v1/workflows/${created.id}`)).body.version).toBe(current.version);
  });
});

describe('failed authentication and denied calls are logged with the client address (issue 17)', () => {
  it('logs auth.failed for a wrong key and auth.denied for a missing permission, never the key', async () => {
    const wrong = `afk_${'x'.repeat(40)}`;
    expect((await new Api(daemon.url, { apiKey: wrong }).request('GET', '/api/v1/workflows')).status).toBe(401);
    const viewer = await clientFor('viewer');
    expect((await viewer.request('POST', '/api/v1/workflows', workflow(`v ${uid()}`, [manual()], []))).status).toBe(403);
    const lines = () => daemon.logs().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    const deadline = Date.now() + 5000;
    while (!(lines().some((l) => l.event === 'auth.failed') && lines().some((l) => l.event === 'auth.denied')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(lines().find((l) => l.event === 'auth.failed')).toMatchObject({ level: 30, client: expect.stringMatching(/127\.0\.0\.1/), method: 'GET', route: 'WorkflowsController.list' });
    expect(lines().find((l) => l.event === 'auth.denied')).toMatchObject({ level: 30, client: expect.stringMatching(/127\.0\.0\.1/), role: 'viewer', permission: 'workflows:write' });
    expect(daemon.logs()).not.toContain(wrong);
  });
});
