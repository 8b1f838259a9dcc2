/**
 * The editor's socket.io gateway (namespace /editor, issue 15) against a real daemon with socket.io-client:
 * handshake auth, role checks per event, collaborative patches (merge, rebase, conflict), live executions
 * (ordered node statuses, late watchers without gap or duplicate), and malformed messages.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { io, type Socket } from 'socket.io-client';
import { Api } from './support/api.js';
import { startDaemon, type Daemon } from './support/daemon.js';
import { chain, manual, node, uid, workflow } from './support/graph.js';

let daemon: Daemon;
let admin: Api;
let editorKey: string;
let viewerKey: string;
const sockets: Socket[] = [];

async function createKey(role: string): Promise<string> {
  const res = await admin.post('/api/v1/keys', { name: `editor-e2e ${role} ${uid()}`, role });
  if (res.status !== 201) throw new Error(`create ${role} key: ${res.status} ${res.text}`);
  return res.body.secret as string;
}

function connect(token: string | undefined): Promise<Socket> {
  const socket = io(`${daemon.url}/editor`, { auth: token === undefined ? {} : { token }, transports: ['websocket'], reconnection: false, forceNew: true });
  sockets.push(socket);
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err) => reject(err));
  });
}

function ask(socket: Socket, event: string, payload: unknown): Promise<any> {
  return socket.timeout(10_000).emitWithAck(event, payload);
}

/** the next `event` matching `pred`, within the deadline */
function next<T = any>(socket: Socket, event: string, pred: (m: T) => boolean = () => true, timeoutMs = 10_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off(event, on);
      reject(new Error(`no ${event} within ${timeoutMs} ms`));
    }, timeoutMs);
    const on = (m: T) => {
      if (!pred(m)) return;
      clearTimeout(timer);
      socket.off(event, on);
      resolve(m);
    };
    socket.on(event, on);
  });
}

/** everything a socket receives about executions, in arrival order */
function record(socket: Socket): Array<{ event: string; data: any }> {
  const got: Array<{ event: string; data: any }> = [];
  for (const event of ['execution:state', 'execution:started', 'node:status', 'execution:finished']) socket.on(event, (data) => got.push({ event, data }));
  return got;
}

async function run(workflowId: string, input: unknown = {}): Promise<string> {
  const res = await admin.post(`/api/v1/workflows/${workflowId}/executions`, { input });
  if (res.status !== 202) throw new Error(`start: ${res.status} ${res.text}`);
  return (res.body.executionId ?? res.body.id) as string;
}

const simple = () => workflow(`editor ${uid()}`, [manual(), node('a', 'core.set', { fields: { a: 1 } }), node('b', 'core.set', { fields: { b: 2 } })], chain('start', 'a', 'b'));

beforeAll(async () => {
  daemon = await startDaemon({ name: 'editor-gateway' });
  admin = new Api(daemon.url);
  [editorKey, viewerKey] = await Promise.all([createKey('editor'), createKey('viewer')]);
}, 120_000);

afterAll(async () => {
  for (const s of sockets) s.disconnect();
  await daemon?.stop();
});

describe('handshake and permissions', () => {
  it('refuses a connection without a token or with a bad one', async () => {
    await expect(connect(undefined)).rejects.toMatchObject({ message: expect.stringContaining('authentication required'), data: { v: 1, code: 'UNAUTHORIZED' } });
    await expect(connect('afk_0000000000000000_' + 'x'.repeat(43))).rejects.toMatchObject({ data: { code: 'UNAUTHORIZED' } });
    await expect(connect('eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.bad')).rejects.toMatchObject({ data: { code: 'UNAUTHORIZED' } });
  });

  it('accepts an editor token; a viewer may watch but not patch', async () => {
    const token = (await new Api(daemon.url, { apiKey: editorKey }).post('/api/v1/auth/token')).body.token as string;
    const wf = await admin.createWorkflow(simple());
    const editor = await connect(token);
    expect(await ask(editor, 'workflow:watch', { v: 1, workflowId: wf.id })).toMatchObject({ v: 1, ok: true, version: 1, workflow: { id: wf.id, nodes: expect.any(Array) } });

    const viewer = await connect(viewerKey);
    expect(await ask(viewer, 'workflow:watch', { v: 1, workflowId: wf.id })).toMatchObject({ ok: true, version: 1 });
    const errorEvent = next(viewer, 'error');
    const answer = await ask(viewer, 'workflow:patch', { v: 1, workflowId: wf.id, baseVersion: 1, ops: [{ op: 'rename', name: 'viewer was here' }] });
    expect(answer).toMatchObject({ v: 1, ok: false, code: 'FORBIDDEN', message: "role 'viewer' lacks permission 'workflows:write' needed for workflow:patch" });
    expect(await errorEvent).toMatchObject({ v: 1, code: 'FORBIDDEN', event: 'workflow:patch' });
    expect((await admin.getWorkflow(wf.id)).version).toBe(1);
  });
});

describe('collaborative patches', () => {
  it('two editors see each other’s patches live, with who made them; presence lists both', async () => {
    const wf = await admin.createWorkflow(simple());
    const [alice, bob] = await Promise.all([connect(editorKey), connect(editorKey)]);
    await ask(alice, 'workflow:watch', { v: 1, workflowId: wf.id });
    const presence = next(alice, 'workflow:presence', (m) => m.users.length === 2 && m.users.some((u: any) => u.selectedNodeId === 'a'));
    await ask(bob, 'workflow:watch', { v: 1, workflowId: wf.id });
    await ask(bob, 'workflow:select', { v: 1, workflowId: wf.id, nodeId: 'a' });
    expect((await presence).users).toEqual(expect.arrayContaining([expect.objectContaining({ socketId: bob.id, selectedNodeId: 'a', who: expect.stringMatching(/^key:/) })]));

    const seenByBob = next(bob, 'workflow:changed');
    const ops = [{ op: 'addNode', node: { id: 'c', type: 'core.set', params: { fields: { c: 3 } }, position: { x: 400, y: 0 } } }, { op: 'connect', edge: { from: 'b', to: 'c' } }];
    expect(await ask(alice, 'workflow:patch', { v: 1, workflowId: wf.id, baseVersion: 1, ops })).toMatchObject({ ok: true, version: 2, ops, problems: [] });
    expect(await seenByBob).toEqual({ v: 1, workflowId: wf.id, version: 2, by: expect.stringMatching(/^key:/), ops, problems: [] });

    const seenByAlice = next(alice, 'workflow:changed');
    expect(await ask(bob, 'workflow:patch', { v: 1, workflowId: wf.id, baseVersion: 2, ops: [{ op: 'moveNode', id: 'a', position: { x: 10, y: 99 } }] })).toMatchObject({ ok: true, version: 3 });
    expect(await seenByAlice).toMatchObject({ version: 3, ops: [{ op: 'moveNode', id: 'a' }] });
    const stored = await admin.getWorkflow(wf.id);
    expect(stored.nodes.map((n) => n.id)).toEqual(['start', 'a', 'b', 'c']);
    expect(stored.nodes[1]!.position).toEqual({ x: 10, y: 99 });

    const history = await ask(alice, 'workflow:history', { v: 1, workflowId: wf.id });
    expect(history.versions.map((h: any) => [h.version, h.by === null ? null : 'key', h.ops.length])).toEqual([[3, 'key', 1], [2, 'key', 2], [1, null, 0]]);
  });

  it('concurrent patches on the same base touching different things both land', async () => {
    const wf = await admin.createWorkflow(simple());
    const [alice, bob] = await Promise.all([connect(editorKey), connect(editorKey)]);
    const [ra, rb] = await Promise.all([
      ask(alice, 'workflow:patch', { v: 1, workflowId: wf.id, baseVersion: 1, ops: [{ op: 'setParams', id: 'a', params: { fields: { a: 'alice' } } }] }),
      ask(bob, 'workflow:patch', { v: 1, workflowId: wf.id, baseVersion: 1, ops: [{ op: 'setParams', id: 'b', params: { fields: { b: 'bob' } } }, { op: 'rename', name: 'bob named it' }] }),
    ]);
    expect([ra.ok, rb.ok]).toEqual([true, true]);
    expect([ra.version, rb.version].sort()).toEqual([2, 3]);
    expect([ra, rb].find((r) => r.version === 3).rebasedFrom).toBe(1);
    const stored = await admin.getWorkflow(wf.id);
    expect(stored.name).toBe('bob named it');
    expect(stored.nodes.find((n) => n.id === 'a')!.params).toEqual({ fields: { a: 'alice' } });
    expect(stored.nodes.find((n) => n.id === 'b')!.params).toEqual({ fields: { b: 'bob' } });
  });

  it('a real conflict is refused with the current version and the conflicting ops; nothing is overwritten', async () => {
    const wf = await admin.createWorkflow(simple());
    const [alice, bob] = await Promise.all([connect(editorKey), connect(editorKey)]);
    expect(await ask(alice, 'workflow:patch', { v: 1, workflowId: wf.id, baseVersion: 1, ops: [{ op: 'setParams', id: 'a', params: { fields: { a: 'alice' } } }, { op: 'removeNode', id: 'b' }] })).toMatchObject({ ok: true, version: 2 });
    const mine = [{ op: 'setParams', id: 'a', params: { fields: { a: 'bob' } } }, { op: 'moveNode', id: 'start', position: { x: 1, y: 1 } }, { op: 'connect', edge: { from: 'start', to: 'b' } }];
    const answer = await ask(bob, 'workflow:patch', { v: 1, workflowId: wf.id, baseVersion: 1, ops: mine });
    expect(answer).toMatchObject({
      v: 1, ok: false, code: 'CONFLICT', currentVersion: 2,
      conflicts: [
        { index: 0, op: mine[0], reason: "param 'fields' of node 'a' was changed by someone else since your version" },
        { index: 2, op: mine[2], reason: "edge start:main->b:main goes to node 'b', removed since your version" },
      ],
    });
    const stored = await admin.getWorkflow(wf.id);
    expect(stored.version).toBe(2);
    expect(stored.nodes.find((n) => n.id === 'a')!.params).toEqual({ fields: { a: 'alice' } });
  });

  it('a patch replayed with the same patchId (lost acknowledgement) is answered, not applied twice', async () => {
    const wf = await admin.createWorkflow(simple());
    const s = await connect(editorKey);
    const patch = { v: 1, workflowId: wf.id, baseVersion: 1, patchId: `p-${uid()}`, ops: [{ op: 'addNode', node: { id: 'x', type: 'core.noop' } }] };
    expect(await ask(s, 'workflow:patch', patch)).toMatchObject({ ok: true, version: 2 });
    expect(await ask(s, 'workflow:patch', patch)).toMatchObject({ ok: true, version: 2, replayed: true });
    expect((await admin.getWorkflow(wf.id)).version).toBe(2);
  });
});

describe('live executions', () => {
  const slow = () => workflow(`live ${uid()}`, [manual(), node('w1', 'core.wait', { ms: 300 }), node('w2', 'core.wait', { ms: 1200 }), node('end', 'core.set', { fields: { done: true } })], chain('start', 'w1', 'w2', 'end'));

  it('a watcher sees every node turn running then succeeded, in sequence order, then execution:finished', async () => {
    const wf = await admin.createWorkflow(slow());
    const s = await connect(viewerKey);
    await ask(s, 'workflow:watch', { v: 1, workflowId: wf.id });
    const started = next(s, 'execution:started');
    const executionId = await run(wf.id);
    expect(await started).toMatchObject({ v: 1, executionId, workflowId: wf.id, seq: 1 });
    const got = record(s);
    const watched = await ask(s, 'execution:watch', { v: 1, executionId });
    expect(watched).toMatchObject({ ok: true, executionId });
    await next(s, 'execution:finished', (m) => m.executionId === executionId, 20_000);
    const state = got.find((g) => g.event === 'execution:state')!.data;
    const live = got.filter((g) => g.event !== 'execution:state').map((g) => g.data);
    expect(live.every((m) => m.v === 1)).toBe(true);
    expect(live.map((m) => m.seq)).toEqual(Array.from({ length: live.length }, (_, i) => state.seq + 1 + i));
    const byNode = (id: string) => [...state.nodes, ...live].filter((m) => m.nodeId === id).map((m) => m.status);
    // a wait node parks (waiting) and resumes before it succeeds
    expect(byNode('w2')[0]).toBe('running');
    expect(byNode('w2')).toContain('waiting');
    expect(byNode('w2').at(-1)).toBe('succeeded');
    expect(byNode('end').at(-1)).toBe('succeeded');
    expect(live.at(-1)).toMatchObject({ status: 'succeeded', executionId });
  }, 30_000);

  it('a late watcher gets the state first, then live events with no gap and no duplicate', async () => {
    const wf = await admin.createWorkflow(slow());
    const early = await connect(editorKey);
    const executionId = await run(wf.id);
    const earlyGot = record(early);
    const earlyFinished = next(early, 'execution:finished', () => true, 25_000);
    await ask(early, 'execution:watch', { v: 1, executionId });
    await next(early, 'node:status', (m) => m.nodeId === 'w2' && m.status === 'waiting', 10_000);

    const late = await connect(editorKey);
    const lateGot = record(late);
    await ask(late, 'execution:watch', { v: 1, executionId });
    await next(late, 'execution:finished', () => true, 20_000);
    expect(lateGot[0]!.event).toBe('execution:state');
    const state = lateGot[0]!.data;
    expect(state.nodes.find((n: any) => n.nodeId === 'w1')).toMatchObject({ status: 'succeeded', outputPreview: expect.anything() });
    expect(state.nodes.find((n: any) => n.nodeId === 'w2')).toMatchObject({ status: 'waiting' });
    const seqs = lateGot.slice(1).map((g) => g.data.seq);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => state.seq + 1 + i));
    // the late watcher ends where the early one ends: nothing missing
    await earlyFinished;
    const earlyLast = earlyGot.at(-1)!.data.seq;
    expect(seqs.at(-1)).toBe(earlyLast);
  }, 30_000);
});

describe('malformed input', () => {
  it('answers malformed, oversized and unknown messages with an error event and stays connected', async () => {
    const s = await connect(editorKey);
    const errors: any[] = [];
    s.on('error', (e) => errors.push(e));
    expect(await ask(s, 'workflow:watch', 'nope')).toMatchObject({ ok: false, code: 'MALFORMED', message: 'workflow:watch takes an object with v: 1' });
    expect(await ask(s, 'workflow:watch', { workflowId: 'x' })).toMatchObject({ code: 'MALFORMED', message: 'every message must carry v: 1 (got null)' });
    expect(await ask(s, 'workflow:watch', { v: 1, workflowId: 'a b' })).toMatchObject({ code: 'MALFORMED', message: expect.stringContaining('workflowId must be an id') });
    expect(await ask(s, 'workflow:patch', { v: 1, workflowId: 'x', baseVersion: 1, ops: [{ op: 'explode' }] })).toMatchObject({ code: 'MALFORMED', message: expect.stringContaining('ops[0].op must be one of') });
    expect(await ask(s, 'workflow:patch', { v: 1, workflowId: 'x', baseVersion: 1, ops: [{ op: 'rename', name: 'y'.repeat(600_000) }] })).toMatchObject({ code: 'MESSAGE_TOO_LARGE' });
    expect(await ask(s, 'execution:watch', { v: 1, executionId: '00000000-0000-4000-8000-000000000000' })).toMatchObject({ code: 'NOT_FOUND' });
    expect(await ask(s, 'workflow:explode', { v: 1 })).toMatchObject({ code: 'UNKNOWN_EVENT' });
    s.emit('workflow:watch', 42); // no ack asked: the error event still tells
    await next(s, 'error', (e) => e.code === 'MALFORMED' && errors.length >= 8);
    expect(errors.map((e) => e.code)).toEqual(['MALFORMED', 'MALFORMED', 'MALFORMED', 'MALFORMED', 'MESSAGE_TOO_LARGE', 'NOT_FOUND', 'UNKNOWN_EVENT', 'MALFORMED']);
    expect(s.connected).toBe(true);
    expect((await admin.get('/api/v1/health')).status).toBe(200);
  });

  it('rate-limits a socket that floods', async () => {
    const s = await connect(editorKey);
    const answers = await Promise.all(Array.from({ length: 200 }, () => ask(s, 'workflow:watch', { v: 1, workflowId: 'does-not-exist' })));
    const codes = answers.map((a) => a.code);
    expect(codes.filter((c) => c === 'RATE_LIMITED').length).toBeGreaterThan(50);
    expect(answers.find((a) => a.code === 'RATE_LIMITED')).toMatchObject({ message: expect.stringContaining('too many messages') });
    expect(s.connected).toBe(true);
  });
});
