/**
 * The editor's socket gateway in cluster mode (issue 15): two daemons on one database and one NATS. A
 * socket on daemon B sees the live node statuses of an execution running on daemon A (relayed over
 * `<p>.v1.events.execution.<id>`), and the patches made through daemon A (`<p>.v1.events.workflow.<id>`).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { io, type Socket } from 'socket.io-client';
import { Api } from './support/api.js';
import { sharedDatabase, startDaemon, type Daemon } from './support/daemon.js';
import { chain, manual, node, uid, workflow } from './support/graph.js';
import { type NatsTestServer, natsForTests, reportSkip, uniquePrefix } from '../libs/transport/src/nats/spec-support/nats-test-server.js';

const nats = await natsForTests('editor-cluster');
const sharedDb = 'skip' in nats ? undefined : await sharedDatabase();
if ('skip' in nats) reportSkip('editor gateway in cluster mode', nats.skip);
else if (!sharedDb) reportSkip('editor gateway in cluster mode', 'the run uses embedded Postgres: two daemons cannot share one database');
const suite = 'skip' in nats || !sharedDb ? describe.skip : describe;
if (!('skip' in nats) && !sharedDb) await nats.close(); // not needed after all

const daemons: Daemon[] = [];
const sockets: Socket[] = [];

function connect(url: string, token: string): Promise<Socket> {
  const socket = io(`${url}/editor`, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
  sockets.push(socket);
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

function next<T = any>(socket: Socket, event: string, pred: (m: T) => boolean = () => true, timeoutMs = 15_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${timeoutMs} ms`)), timeoutMs);
    const on = (m: T) => {
      if (!pred(m)) return;
      clearTimeout(timer);
      socket.off(event, on);
      resolve(m);
    };
    socket.on(event, on);
  });
}

suite('editor gateway, two daemons', () => {
  let a: Api;
  let b: Daemon;
  let aDaemon: Daemon;

  beforeAll(async () => {
    const prefix = uniquePrefix('editor');
    const env = { NATS_URL: (nats as NatsTestServer).url, ANCHORFLOW_NATS_PREFIX: prefix, ANCHORFLOW_WORKERS_DISCOVERY_WINDOW_MS: '300' };
    aDaemon = await startDaemon({ name: 'editor-a', databaseUrl: sharedDb!, env });
    b = await startDaemon({ name: 'editor-b', databaseUrl: sharedDb!, env });
    daemons.push(aDaemon, b);
    a = new Api(aDaemon.url);
  }, 120_000);

  afterAll(async () => {
    for (const s of sockets) s.disconnect();
    await Promise.all(daemons.map((d) => d.stop()));
    if (!('skip' in nats)) await nats.close();
  });

  it('a socket on daemon B streams an execution running on daemon A, in order, to the end', async () => {
    const wf = await a.createWorkflow(workflow(`cluster live ${uid()}`, [manual(), node('w', 'core.wait', { ms: 800 }), node('s1', 'core.set', { fields: { x: 1 } }), node('s2', 'core.set', { fields: { y: 2 } })], chain('start', 'w', 's1', 's2')));
    const token = (await a.post('/api/v1/keys', { name: `viewer ${uid()}`, role: 'viewer' })).body.secret as string;
    const onB = await connect(b.url, token);
    const started = await a.post(`/api/v1/workflows/${wf.id}/executions`, { input: {} });
    const executionId = (started.body.executionId ?? started.body.id) as string;
    const got: any[] = [];
    onB.on('node:status', (m) => got.push(m));
    const state = next(onB, 'execution:state');
    const finished = next(onB, 'execution:finished', (m) => m.executionId === executionId);
    expect(await onB.timeout(10_000).emitWithAck('execution:watch', { v: 1, executionId })).toMatchObject({ ok: true });
    const s = await state;
    expect(await finished).toMatchObject({ status: 'succeeded' });
    const seqs = got.map((m) => m.seq);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => s.seq + 1 + i));
    const last = new Map([...s.nodes, ...got].map((m: any) => [m.nodeId, m.status]));
    expect(Object.fromEntries(last)).toEqual({ start: 'succeeded', w: 'succeeded', s1: 'succeeded', s2: 'succeeded' });
  }, 60_000);

  it('a patch made through daemon A reaches an editor connected to daemon B', async () => {
    const wf = await a.createWorkflow(workflow(`cluster patch ${uid()}`, [manual(), node('s', 'core.set', { fields: { x: 1 } })], chain('start', 's')));
    const key = (await a.post('/api/v1/keys', { name: `editor ${uid()}`, role: 'editor' })).body.secret as string;
    const [onA, onB] = [await connect(aDaemon.url, key), await connect(b.url, key)];
    await onB.timeout(10_000).emitWithAck('workflow:watch', { v: 1, workflowId: wf.id });
    const changed = next(onB, 'workflow:changed', (m) => m.workflowId === wf.id);
    const ops = [{ op: 'rename', name: 'renamed on A' }];
    expect(await onA.timeout(10_000).emitWithAck('workflow:patch', { v: 1, workflowId: wf.id, baseVersion: 1, ops })).toMatchObject({ ok: true, version: 2 });
    expect(await changed).toMatchObject({ v: 1, workflowId: wf.id, version: 2, ops, by: expect.stringMatching(/^key:/) });
  }, 60_000);

  it('presence lists the editors of both daemons; one leaving shows on the other', async () => {
    const wf = await a.createWorkflow(workflow(`cluster presence ${uid()}`, [manual(), node('s', 'core.set', { fields: { x: 1 } })], chain('start', 's')));
    const key = (await a.post('/api/v1/keys', { name: `editor ${uid()}`, role: 'editor' })).body.secret as string;
    const [onA, onB] = [await connect(aDaemon.url, key), await connect(b.url, key)];
    await onA.timeout(10_000).emitWithAck('workflow:watch', { v: 1, workflowId: wf.id });
    const both = next(onA, 'workflow:presence', (m) => m.workflowId === wf.id && m.users.length === 2 && m.users.some((u: any) => u.socketId === onB.id && u.selectedNodeId === 's'));
    await onB.timeout(10_000).emitWithAck('workflow:watch', { v: 1, workflowId: wf.id });
    await onB.timeout(10_000).emitWithAck('workflow:select', { v: 1, workflowId: wf.id, nodeId: 's' });
    expect((await both).users.map((u: any) => u.socketId).sort()).toEqual([onA.id, onB.id].sort());
    const alone = next(onA, 'workflow:presence', (m) => m.workflowId === wf.id && m.users.length === 1);
    onB.disconnect();
    expect((await alone).users).toEqual([expect.objectContaining({ socketId: onA.id })]);
  }, 60_000);

  it('a change made through the REST API of daemon A reaches an editor connected to daemon B', async () => {
    const wf = await a.createWorkflow(workflow(`cluster rest ${uid()}`, [manual(), node('s', 'core.set', { fields: { x: 1 } })], chain('start', 's')));
    const key = (await a.post('/api/v1/keys', { name: `editor ${uid()}`, role: 'editor' })).body.secret as string;
    const onB = await connect(b.url, key);
    await onB.timeout(10_000).emitWithAck('workflow:watch', { v: 1, workflowId: wf.id });
    const changed = next(onB, 'workflow:changed', (m) => m.workflowId === wf.id && m.version === 2);
    const put = await a.request('PUT', `/api/v1/workflows/${wf.id}`, { ...workflow(`cluster rest v2`, [manual(), node('s', 'core.set', { fields: { x: 2 } })], chain('start', 's')), version: 1 });
    expect(put.status).toBe(200);
    expect(await changed).toMatchObject({ v: 1, workflowId: wf.id, version: 2, by: null, change: 'updated' });
  }, 60_000);
});
