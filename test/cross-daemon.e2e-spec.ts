/**
 * Control across daemons (issue 16): two daemons on one PostgreSQL database (external PostgreSQL only:
 * embedded Postgres is private to its data dir). A cancel sent to daemon B reaches an execution daemon A
 * is running (A sees the request when it renews its lease and cancels the node in flight), and a resume
 * token sent to B wakes a node that parked on A, once.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { Api, nodeRun, statuses } from './support/api.js';
import { REPO_ROOT, sharedDatabase, startDaemon, type Daemon } from './support/daemon.js';
import { currentRun } from './support/e2e-env.js';
import { chain, manual, node, uid, workflow } from './support/graph.js';
import { gate, startHttpReceiver, type HttpReceiver } from './support/http-receiver.js';
import { requireServiceOrSkip } from './support/services.js';

const shared = await sharedDatabase();
if (!shared) {
  requireServiceOrSkip('cross-daemon control', 'PostgreSQL', `the run uses embedded Postgres (${currentRun().dbReason}): two daemons cannot share one database`,
    { deliberate: process.env.E2E_DB === 'embedded' });
}
const itShared = shared ? it : it.skip;
const LEASE_MS = 3000;

let a: Daemon;
let b: Daemon;
let apiA: Api;
let apiB: Api;
let receiver: HttpReceiver;

beforeAll(async () => {
  if (!shared) return;
  receiver = await startHttpReceiver();
  const config = path.join(currentRun().runDir, `cross-${uid()}.anchorflow.yaml`);
  writeFileSync(config, `plugins:\n  - '${path.join(REPO_ROOT, 'test/fixtures/plugins/ticker')}'\n`);
  const env = { ANCHORFLOW_CONFIG: config, ANCHORFLOW_CLUSTER_LEASE_MS: String(LEASE_MS), ANCHORFLOW_ENGINE_POLL_INTERVAL_MS: '500' };
  // one after the other: two daemons migrating an empty database at the same moment collide (reported in issue 16's notes)
  a = await startDaemon({ name: 'daemon-a', databaseUrl: shared, env });
  b = await startDaemon({ name: 'daemon-b', databaseUrl: shared, env });
  apiA = new Api(a.url);
  apiB = new Api(b.url);
}, 120_000);

afterAll(async () => {
  await Promise.all([a?.stop().catch(() => a.kill()), b?.stop().catch(() => b.kill())]);
  await receiver?.close();
});

itShared('a cancel sent to daemon B reaches the execution daemon A is running: the node in flight is cancelled', async () => {
  const tag = uid();
  const held = gate();
  receiver.on(`/${tag}`, { status: 200, body: {}, until: held.promise });
  try {
    const wf = await apiA.createWorkflow(workflow(`cross cancel ${tag}`, [
      manual(), node('call', 'core.http', { method: 'POST', url: `${receiver.url}/${tag}`, body: {}, timeoutMs: 60_000 }, { timeoutMs: 60_000 }), node('after', 'core.set', { fields: { never: true } }),
    ], chain('start', 'call', 'after')));
    const id = await apiA.startExecution(wf.id, {});
    const request = await receiver.waitFor((r) => r.path === `/${tag}`, { what: 'the request from A' });
    expect(request.idempotencyKey).toBe(`${id}:call`);

    const res = await apiB.post(`/api/v1/executions/${id}/cancel`, { reason: 'stopped from B' });
    expect({ status: res.status, body: res.body }).toEqual({ status: 202, body: expect.objectContaining({ executionId: id, status: 'cancelling' }) });
    // A cancels it at its next lease renewal (every LEASE_MS / 3)
    const done = await apiB.waitForStatus(id, ['cancelled', 'succeeded', 'failed'], { timeoutMs: LEASE_MS * 3 });
    expect({ status: done.status, nodes: statuses(done) }).toEqual({ status: 'cancelled', nodes: { start: 'succeeded', call: 'cancelled', after: 'cancelled' } });
    const events = await apiA.events(id);
    expect(events.at(-1)).toMatchObject({ type: 'execution.finished', status: 'cancelled' });
    expect(events.filter((e) => e.type === 'execution.finished')).toHaveLength(1);
    // it was A that ran and cancelled it; B never sent the request
    expect(receiver.requestsTo(`/${tag}`)).toHaveLength(1);
  } finally {
    held.release();
  }
});

itShared('a resume token sent to daemon B wakes the node that parked on daemon A, once', async () => {
  const wf = await apiA.createWorkflow(workflow(`cross resume ${uid()}`, [manual(), node('approve', 'ticker.approval'), node('after', 'core.set', { fields: { done: true } })], chain('start', 'approve', 'after')));
  const id = await apiA.startExecution(wf.id, { order: 1 });
  const waiting = await apiA.waitForStatus(id, 'waiting');
  const token = `approve_${id}_approve`;
  expect(nodeRun(waiting, 'approve').resumeToken).toBe(token);

  // the first release's path (still served, left out of the OpenAPI document)
  const res = await apiB.post(`/api/v1/executions/resume/${token}`, { data: { by: 'b' } });
  expect({ status: res.status, body: res.body }).toEqual({ status: 202, body: { id, executionId: id, status: 'running', nodeId: 'approve' } });
  const done = await apiA.waitForStatus(id, 'succeeded', { timeoutMs: LEASE_MS * 3 });
  expect(nodeRun(done, 'after').output).toEqual({ main: { input: { order: 1 }, resumed: 'signal', data: { by: 'b' }, done: true } });
  const events = await apiB.events(id);
  expect(events.filter((e) => e.type === 'node.resumed')).toHaveLength(1);
  expect(events.filter((e) => e.type === 'execution.finished')).toHaveLength(1);
  expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
});
