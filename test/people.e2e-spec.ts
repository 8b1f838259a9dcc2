/**
 * People and composition across a crash (issue 11): approvals, and a parent waiting for a sub-workflow
 * that waits for a person, survive a SIGKILL of the daemon. After a restart on the same database the
 * pending approvals are listed again, a decision resumes each node exactly once, the waiting parent
 * follows its child, and an approval's timeout still fires once.
 */
import { afterAll, expect, it } from '@jest/globals';
import { Api, nodeRun, type Execution } from './support/api.js';
import { startDaemon, type Daemon } from './support/daemon.js';
import { currentRun } from './support/e2e-env.js';
import { chain, edge, manual, node, uid, workflow } from './support/graph.js';
import { until } from './support/until.js';

const daemons: Daemon[] = [];

afterAll(async () => {
  for (const d of daemons) await d.kill();
});

it('approvals and a waiting parent survive SIGKILL: listed again, decided once, timeouts fire once', async () => {
  const tag = uid();
  const first = await startDaemon({ name: 'people', databaseUrl: currentRun().databaseUrl });
  daemons.push(first);
  const admin1 = new Api(first.url);
  const key = await admin1.post('/api/v1/keys', { name: `alice-${tag}`, role: 'operator' });
  expect(key.status).toBe(201);
  const alice = `alice-${tag}`;

  const approvalWf = await admin1.createWorkflow(workflow(`people approval ${tag}`, [
    manual(), node('approve', 'core.approval', { approvers: [alice], message: 'ship it?' }), node('yes', 'core.set', { fields: { shipped: true } }), node('no', 'core.set', { fields: { shipped: false } }),
  ], [edge('start', 'approve'), edge('approve', 'yes', 'approved'), edge('approve', 'no', 'rejected')]));
  const timeoutWf = await admin1.createWorkflow(workflow(`people timeout ${tag}`, [
    manual(), node('approve', 'core.approval', { approvers: [alice], timeoutMs: 4000, onTimeout: 'approve' }),
  ], chain('start', 'approve')));
  const parentWf = await admin1.createWorkflow(workflow(`people parent ${tag}`, [
    manual(), node('sub', 'core.subworkflow', { workflowId: approvalWf.id }), node('after', 'core.set', { fields: { after: true } }),
  ], chain('start', 'sub', 'after')));

  const direct = await admin1.startExecution(approvalWf.id, { order: 1 });
  const timed = await admin1.startExecution(timeoutWf.id, {});
  const parent = await admin1.startExecution(parentWf.id, { order: 2 });
  for (const id of [direct, timed, parent]) await admin1.waitForStatus(id, 'waiting', { timeoutMs: 30_000 });
  const child = await until('the child execution', async () => {
    const res = await admin1.get(`/api/v1/executions?workflowId=${approvalWf.id}&status=waiting&limit=10`);
    return (res.body.items as Execution[]).find((e) => e.id !== direct)?.id;
  });
  const timedBefore = nodeRun(await admin1.getExecution(timed), 'approve');

  const killed = await first.kill();
  expect(killed.signal).toBe('SIGKILL');
  const second = await startDaemon({ name: 'people-restart', dataDir: first.dataDir, databaseUrl: first.databaseUrl });
  daemons.push(second);
  const admin2 = new Api(second.url);
  const alice2 = new Api(second.url, { apiKey: key.body.secret });

  // what waits for alice is listed again after the restart
  const pending = await alice2.get('/api/v1/approvals?status=pending&limit=500');
  expect(pending.status).toBe(200);
  const listed = (pending.body.items as Array<{ executionId: string; nodeId: string; message?: string }>).filter((i) => [direct, child].includes(i.executionId));
  expect(listed.map((i) => i.executionId).sort()).toEqual([direct, child].sort());
  expect(listed.find((i) => i.executionId === direct)).toMatchObject({ nodeId: 'approve', message: 'ship it?' });

  // a caller who is not an approver is still refused; the approver's decisions resume the nodes
  const refused = await admin2.post(`/api/v1/executions/${direct}/approvals/approve`, { decision: 'approve' });
  expect(refused.status).toBe(403);
  const decided = await alice2.post(`/api/v1/executions/${direct}/approvals/approve`, { decision: 'approve', comment: 'after the crash' });
  expect(decided.status).toBe(200);
  expect(decided.body).toMatchObject({ decision: 'approve', by: alice, comment: 'after the crash' });
  expect((await alice2.post(`/api/v1/executions/${direct}/approvals/approve`, { decision: 'reject' })).status).toBe(409);
  expect((await alice2.post(`/api/v1/executions/${child}/approvals/approve`, { decision: 'reject', comment: 'no' })).status).toBe(200);

  const directDone = await admin2.waitForStatus(direct, ['succeeded', 'failed', 'cancelled'], { timeoutMs: 30_000 });
  expect(directDone.status).toBe('succeeded');
  expect(nodeRun(directDone, 'approve').output).toEqual({ approved: { decision: 'approve', by: alice, at: decided.body.at, comment: 'after the crash' } });
  expect(directDone.output).toEqual({ yes: { decision: 'approve', by: alice, at: decided.body.at, comment: 'after the crash', shipped: true } });

  // the parent follows its child (woken by the child's end, or by its own poll)
  const parentDone = await admin2.waitForStatus(parent, ['succeeded', 'failed', 'cancelled'], { timeoutMs: 30_000 });
  expect(parentDone.status).toBe('succeeded');
  expect(nodeRun(parentDone, 'sub').output).toEqual({ main: { no: expect.objectContaining({ decision: 'reject', by: alice, shipped: false }) } });
  expect((await admin2.getExecution(child)).parent).toMatchObject({ executionId: parent, nodeId: 'sub', wait: true });

  // the timeout set before the crash fires once, not before its time
  const timedDone = await admin2.waitForStatus(timed, ['succeeded', 'failed', 'cancelled'], { timeoutMs: 30_000 });
  expect(nodeRun(timedDone, 'approve').output).toEqual({ approved: { decision: 'approve', by: 'timeout', at: expect.any(String) } });
  expect(Date.parse(nodeRun(timedDone, 'approve').finishedAt as string)).toBeGreaterThanOrEqual(Date.parse(timedBefore.startedAt as string) + 4000 - 50);

  for (const id of [direct, child, timed]) {
    const events = await admin2.events(id);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, j) => j + 1));
    expect({ id, resumed: events.filter((e) => e.type === 'node.resumed').length, approveSucceeded: events.filter((e) => e.type === 'node.succeeded' && e.nodeId === 'approve').length })
      .toEqual({ id, resumed: 1, approveSucceeded: 1 });
  }
  // one child only, whatever the parent's restarts and resumes
  const children = await admin2.get(`/api/v1/executions?workflowId=${approvalWf.id}&limit=10`);
  expect((children.body.items as Execution[]).map((e) => e.id).sort()).toEqual([direct, child].sort());
}, 180_000);
