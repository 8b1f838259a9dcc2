/**
 * Credential scopes and scoped redaction through the whole daemon (issue 17), on in-memory ports:
 * a save naming an out-of-scope credential gets 400 naming the node and credential; a run that slips it
 * past the save (an expression) is refused at run time and the refusal is in the execution; redaction
 * (plain, base64, hex) happens only in the execution that resolved the credential; a host-scoped
 * credential narrows ctx.fetch.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import corePlugin from '@anchorflow/plugin-core';
import notificationsPlugin from '@anchorflow/plugin-notifications';
import { defineNode, definePlugin, IsOptional, IsString } from '@anchorflow/plugin-sdk';
import request from 'supertest';
import { createMemoryApp, type MemoryApp } from '../testing/memory-app.js';

class LeakParams {
  @IsString() credential!: string;
  @IsOptional() @IsString() url?: string;
}

/** A (badly behaved) node that resolves a credential and emits its value, encoded, or calls a URL with it. */
const leakNode = defineNode<LeakParams>({
  type: 'sectest.leak', version: 1, title: 'Leak', category: 'action', inputs: ['main'], outputs: ['main'], params: LeakParams,
  async execute(ctx) {
    const { secret } = await ctx.credentials.get<{ secret: string }>(ctx.params.credential);
    if (ctx.params.url) {
      const res = await ctx.fetch(ctx.params.url, { headers: { authorization: `Bearer ${secret}` } });
      return { main: { status: res.status, body: await res.text() } };
    }
    return { main: { plain: `value=${secret}`, base64: Buffer.from(`user:${secret}`).toString('base64'), hex: Buffer.from(secret).toString('hex') } };
  },
});

const SECRET = 'scoped-s3cret-value-42';
let m: MemoryApp;
let http: ReturnType<typeof request.agent>;
let receiver: Server;
let receiverUrl: string;

beforeAll(async () => {
  m = await createMemoryApp({
    plugins: [corePlugin, notificationsPlugin, definePlugin({ name: '@acme/sectest', version: '1.0.0', nodes: [leakNode] })],
    env: { ANCHORFLOW_OUTBOUND_ALLOW_HOSTS: '127.0.0.1' },
  });
  http = request.agent(m.app.getHttpServer()).set('Authorization', `Bearer ${m.adminKey}`);
  receiver = createServer((req, res) => {
    if (req.url === '/redirect') {
      res.writeHead(302, { location: `http://localhost:${(receiver.address() as AddressInfo).port}/landed` }).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain' }).end(`got ${req.url}`);
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await m?.close();
  await new Promise((r) => receiver?.close(r));
});

let seq = 0;
const uniq = (s: string) => `${s}-${Date.now()}-${++seq}`;

async function credential(scopes?: Record<string, unknown>, type = 'api'): Promise<{ id: string; name: string }> {
  const res = await http.post('/api/v1/credentials').send({ type, name: uniq('cred'), data: { secret: SECRET }, ...(scopes ? { scopes } : {}) }).expect(201);
  return res.body;
}

async function run(nodes: unknown[]): Promise<{ workflowId: string; execution: { status: string; nodeRuns: Array<{ nodeId: string; status: string; output?: unknown; error?: { code: string; message: string } }> } }> {
  const wf = await http.post('/api/v1/workflows').send({ name: uniq('wf'), nodes: [{ id: 'start', type: 'core.trigger.manual' }, ...(nodes as object[])], edges: (nodes as Array<{ id: string }>).map((n) => ({ from: 'start', to: n.id })) }).expect(201);
  const res = await http.post(`/api/v1/workflows/${wf.body.id}/executions?wait=10000`).send({ input: {} }).expect(200);
  return { workflowId: wf.body.id, execution: res.body };
}

const nodeRun = (e: { nodeRuns: Array<{ nodeId: string }> }, id: string) => e.nodeRuns.find((n) => n.nodeId === id) as unknown as { status: string; output?: any; error?: { code: string; message: string } };

describe('credential scopes (issue 17)', () => {
  it('shows scopes in the metadata and refuses bad ones with 400 naming the entry', async () => {
    const c = await credential({ nodeTypes: ['sectest.leak'], allowHosts: ['api.example.com'] });
    expect((await http.get(`/api/v1/credentials/${c.id}`).expect(200)).body.scopes).toEqual({ nodeTypes: ['sectest.leak'], allowHosts: ['api.example.com'] });
    const bad = await http.post('/api/v1/credentials').send({ type: 'api', name: uniq('bad'), data: {}, scopes: { workflows: ['nope'] } }).expect(400);
    expect(bad.body.error.details).toEqual([expect.objectContaining({ path: 'scopes.workflows[0]' })]);
  });

  it('refuses at save a workflow whose node names a credential scoped to other workflows: 400 naming node and credential', async () => {
    const c = await credential({ workflows: ['0b9e9d3c-1111-4aaa-8bbb-123456789abc'] }, 'hmac-secret');
    const res = await http.post('/api/v1/workflows').send({
      name: uniq('wf'),
      nodes: [{ id: 'start', type: 'core.trigger.manual' }, { id: 'send', type: 'notify.webhook', params: { url: 'https://hooks.example.com/x', credential: c.name } }],
      edges: [{ from: 'start', to: 'send' }],
    }).expect(400);
    expect(res.body.error.details).toEqual([expect.objectContaining({ code: 'CREDENTIAL_OUT_OF_SCOPE', nodeId: 'send', message: expect.stringContaining(`credential "${c.name}" may not be used here`) })]);
  });

  it('refuses at run time a node type outside the scope, and the refusal is recorded in the execution', async () => {
    const c = await credential({ nodeTypes: ['notify.webhook'] });
    const { execution } = await run([{ id: 'leak', type: 'sectest.leak', params: { credential: c.name } }]);
    expect(execution.status).toBe('failed');
    expect(nodeRun(execution, 'leak').error).toMatchObject({ code: 'CREDENTIAL_OUT_OF_SCOPE', message: expect.stringContaining(`credential "${c.name}" may not be used by node leak: node type sectest.leak is not in its scope`) });
  });

  it('redacts the value and its base64 and hex copies in the execution that resolved it, and nowhere else', async () => {
    const c = await credential();
    const resolved = await run([{ id: 'leak', type: 'sectest.leak', params: { credential: c.name } }]);
    const out = nodeRun(resolved.execution, 'leak').output.main as { plain: string; base64: string; hex: string };
    expect(out.plain).toBe('value=[REDACTED]');
    expect(out.hex).toBe('[REDACTED]');
    expect(JSON.stringify(resolved.execution)).not.toContain(SECRET);
    expect(Buffer.from(out.base64, 'base64').toString()).not.toContain(SECRET);
    // an execution that resolves no credential is no oracle: the guess comes back as written
    const guessing = await run([{ id: 'guess', type: 'core.set', params: { fields: { guess: SECRET } } }]);
    expect(nodeRun(guessing.execution, 'guess').output.main).toEqual({ guess: SECRET });
  });

  it('limits ctx.fetch of a node holding a host-scoped credential to those hosts, redirects included', async () => {
    const elsewhere = await credential({ allowHosts: ['api.example.com'] });
    const refused = await run([{ id: 'leak', type: 'sectest.leak', params: { credential: elsewhere.name, url: `${receiverUrl}/x` } }]);
    expect(nodeRun(refused.execution, 'leak').error).toMatchObject({ code: 'CREDENTIAL_HOST_NOT_ALLOWED', message: expect.stringContaining(`credential ${JSON.stringify(elsewhere.name)} may only be used with api.example.com`) });
    const here = await credential({ allowHosts: ['127.0.0.1'] });
    const allowed = await run([{ id: 'leak', type: 'sectest.leak', params: { credential: here.name, url: `${receiverUrl}/ok` } }]);
    expect(nodeRun(allowed.execution, 'leak').output.main).toEqual({ status: 200, body: 'got /ok' });
    // 127.0.0.1 redirects to localhost: another host, refused before the request is made
    const redirected = await run([{ id: 'leak', type: 'sectest.leak', params: { credential: here.name, url: `${receiverUrl}/redirect` } }]);
    expect(nodeRun(redirected.execution, 'leak').error).toMatchObject({ code: 'CREDENTIAL_HOST_NOT_ALLOWED', message: expect.stringContaining('"localhost" refused') });
  });
});
