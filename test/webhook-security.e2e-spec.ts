/**
 * Webhook triggers against the real daemon's HTTP stack (issue 11 and 17): the signature is checked over
 * the exact bytes sent (whatever the content type), a stale timestamp, a missing or wrong signature, a
 * body over maxBodyBytes and calls past the trigger's rate limit are refused with 401/413/429, an unknown
 * path is 404, and in none of these cases does an execution start. `exposure: "key"` admits only API keys
 * allowed executions:run; a public webhook hands out its output only with `publicOutput: true`.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { signWebhookPayload } from '@anchorflow/plugin-sdk';
import { Api, listItems, type Execution } from './support/api.js';
import { startDaemon, type Daemon } from './support/daemon.js';
import { chain, node, uid, workflow } from './support/graph.js';

const SECRET = `whsec-${uid()}-0123456789`;
let daemon: Daemon;
let admin: Api;
let anonymous: Api;

beforeAll(async () => {
  daemon = await startDaemon({ name: 'webhook-security' });
  admin = new Api(daemon.url);
  anonymous = new Api(daemon.url, { apiKey: null });
}, 120_000);

afterAll(async () => {
  await daemon?.stop();
});

async function executionsOf(workflowId: string): Promise<Execution[]> {
  const res = await admin.get(`/api/v1/executions?workflowId=${workflowId}&limit=100`);
  expect(res.status).toBe(200);
  return listItems<Execution>(res.body);
}

async function activeHook(params: Record<string, unknown>): Promise<{ id: string; path: string }> {
  const path = `sec/${uid()}`;
  const created = await admin.createWorkflow(workflow(`hook ${path}`, [node('hook', 'core.trigger.webhook', { path, ...params }), node('done', 'core.set', { fields: { done: true } })], chain('hook', 'done')));
  await admin.activate(created.id);
  return { id: created.id, path };
}

const now = () => Math.floor(Date.now() / 1000);

describe('signed webhooks', () => {
  let hook: { id: string; path: string };
  beforeAll(async () => {
    const cred = await admin.post('/api/v1/credentials', { type: 'hmac-secret', name: `partner-${uid()}`, data: { secret: SECRET } });
    expect(cred.status).toBe(201);
    hook = await activeHook({ secret: cred.body.name, maxBodyBytes: 64, include: 'request' });
  });
  const send = (raw: string, headers: Record<string, string>) => anonymous.post(`/hooks/${hook.path}`, undefined, { raw, headers });

  it('starts the workflow for the exact bytes signed, whatever the content type; refuses everything else with 401/413 and starts nothing', async () => {
    // odd spacing on purpose: the MAC is over the bytes sent, not over a re-serialised body
    const json = '{"order":  7, "items":[1,2]}';
    const ok = await send(json, { 'content-type': 'application/json', 'x-anchorflow-signature': signWebhookPayload(SECRET, json, now()) });
    expect(ok.status).toBe(202);
    const text = 'plain words';
    expect((await send(text, { 'content-type': 'text/plain', 'x-anchorflow-signature': signWebhookPayload(SECRET, text, now()) })).status).toBe(202);
    const bytes = 'opaque\u0000bytes';
    expect((await send(bytes, { 'content-type': 'application/octet-stream', 'x-anchorflow-signature': signWebhookPayload(SECRET, bytes, now()) })).status).toBe(202);

    const refusals = [
      ['missing', await send(json, { 'content-type': 'application/json' })],
      ['wrong secret', await send(json, { 'content-type': 'application/json', 'x-anchorflow-signature': signWebhookPayload('another-secret-0000000', json, now()) })],
      ['body changed', await send('{"order":8,"items":[1,2]}', { 'content-type': 'application/json', 'x-anchorflow-signature': signWebhookPayload(SECRET, json, now()) })],
      ['stale', await send(json, { 'content-type': 'application/json', 'x-anchorflow-signature': signWebhookPayload(SECRET, json, now() - 400) })],
      ['too large', await send(`{"pad":"${'x'.repeat(100)}"}`, { 'content-type': 'application/json', 'x-anchorflow-signature': signWebhookPayload(SECRET, `{"pad":"${'x'.repeat(100)}"}`, now()) })],
    ] as const;
    expect(refusals.map(([what, res]) => [what, res.status, res.body?.error?.code])).toEqual([
      ['missing', 401, 'SIGNATURE_INVALID'],
      ['wrong secret', 401, 'SIGNATURE_INVALID'],
      ['body changed', 401, 'SIGNATURE_INVALID'],
      ['stale', 401, 'SIGNATURE_INVALID'],
      ['too large', 413, 'PAYLOAD_TOO_LARGE'],
    ]);
    expect(refusals[3][1].body.error.message).toMatch(/s old \(tolerance 300 s\)/);

    const started = await executionsOf(hook.id);
    expect(started).toHaveLength(3);
    const full = await Promise.all(started.map((e) => admin.getExecution(e.id)));
    const bodies = full.map((e) => (e.input as { body: unknown }).body);
    expect(bodies).toEqual(expect.arrayContaining([{ order: 7, items: [1, 2] }, 'plain words', null]));
  });

  it('an unknown path is 404 and starts nothing', async () => {
    const res = await anonymous.post(`/hooks/${hook.path}-nope`, { a: 1 });
    expect({ status: res.status, code: res.body?.error?.code }).toEqual({ status: 404, code: 'NOT_FOUND' });
  });
});

describe('rate limit', () => {
  it('past rateLimitPerMinute: 429 with Retry-After, and only the admitted calls started executions', async () => {
    const hook = await activeHook({ rateLimitPerMinute: 3 });
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 5; i++) {
      const res = await anonymous.post(`/hooks/${hook.path}`, { i });
      statuses.push(res.status);
      if (res.status === 429) {
        retryAfter = res.headers.get('retry-after');
        expect(res.body.error.code).toBe('TOO_MANY_REQUESTS');
      }
    }
    expect(statuses).toEqual([202, 202, 202, 429, 429]);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(retryAfter)).toBeLessThanOrEqual(60);
    expect(await executionsOf(hook.id)).toHaveLength(3);
  });
});

describe('exposure', () => {
  async function keyFor(role: string): Promise<string> {
    const res = await admin.request('POST', '/api/v1/keys', { name: `${role} ${uid()}`, role });
    expect(res.status).toBe(201);
    return res.body.secret as string;
  }

  it('key: anonymous 401, a viewer key 403, an operator key gets the output; the key never reaches the workflow', async () => {
    const hook = await activeHook({ exposure: 'key', respond: 'lastNode', include: 'request' });
    expect((await anonymous.post(`/hooks/${hook.path}`, { a: 1 })).status).toBe(401);
    const viewer = await keyFor('viewer');
    const denied = await anonymous.post(`/hooks/${hook.path}`, { a: 1 }, { headers: { authorization: `Bearer ${viewer}` } });
    expect({ status: denied.status, code: denied.body?.error?.code }).toEqual({ status: 403, code: 'FORBIDDEN' });
    expect(await executionsOf(hook.id)).toEqual([]);
    const operator = await keyFor('operator');
    const ok = await anonymous.post(`/hooks/${hook.path}`, { a: 1 }, { headers: { authorization: `Bearer ${operator}` } });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ body: { a: 1 }, done: true });
    expect(JSON.stringify(ok.body)).not.toContain(operator);
  });

  it('a public webhook hands out its output only with publicOutput: true (saving without it names the param)', async () => {
    const path = `sec/${uid()}`;
    const refused = await admin.post('/api/v1/workflows', workflow(`public out ${path}`, [node('hook', 'core.trigger.webhook', { path, respond: 'lastNode' }), node('done', 'core.noop')], chain('hook', 'done')));
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.body.error)).toContain('publicOutput');
    const hook = await activeHook({ respond: 'lastNode', publicOutput: true });
    const res = await anonymous.post(`/hooks/${hook.path}`, { a: 1 });
    expect({ status: res.status, body: res.body }).toEqual({ status: 200, body: { a: 1, done: true } });
  });

  it('the catalog shows the exposure choices of core.trigger.webhook', async () => {
    const res = await admin.get<{ items: Array<{ type: string; paramsSchema?: { properties: Record<string, { enum?: string[] }> }; [k: string]: unknown }> }>('/api/v1/node-types');
    const webhook = res.body.items.find((t) => t.type === 'core.trigger.webhook')!;
    expect(JSON.stringify(webhook)).toContain('"exposure"');
    expect(JSON.stringify(webhook)).toContain('"enum":["public","signed","key"]');
  });
});
