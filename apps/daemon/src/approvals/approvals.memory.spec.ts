import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { AuditService } from '../audit/audit.service.js';
import { auditedExecutionEvents } from '../audit/audit-entries.js';
import { eventually } from '../testing/eventually.js';
import { createMemoryApp, type MemoryApp } from '../testing/memory-app.js';

/** core.approval over HTTP: who may decide, what a decision does, what waits for whom (in-memory ports). */
describe('approvals (core.approval, /executions/:id/approvals/:nodeId, /approvals)', () => {
  let t: MemoryApp;
  let admin: ReturnType<typeof request.agent>;
  /** API keys by name: role operator unless the name says otherwise */
  const keys: Record<string, ReturnType<typeof request.agent>> = {};

  const as = (name: string) => keys[name]!;

  beforeAll(async () => {
    t = await createMemoryApp();
    admin = request.agent(t.app.getHttpServer()).set('Authorization', `Bearer ${t.adminKey}`);
    for (const [name, role] of [['alice', 'operator'], ['bob', 'operator'], ['vera', 'viewer'], ['eddie', 'editor']] as const) {
      const { body } = await admin.post('/api/v1/keys').send({ name, role }).expect(201);
      keys[name] = request.agent(t.app.getHttpServer()).set('Authorization', `Bearer ${body.secret}`);
    }
  });
  afterAll(async () => {
    await t?.close();
  });

  const approvalFlow = (params: Record<string, unknown>) => ({
    name: `approval ${Math.random().toString(36).slice(2, 8)}`,
    nodes: [
      { id: 'start', type: 'core.trigger.manual' },
      { id: 'approve', type: 'core.approval', params },
      { id: 'yes', type: 'core.set', params: { fields: { paid: true } } },
      { id: 'no', type: 'core.set', params: { fields: { paid: false } } },
    ],
    edges: [
      { from: 'start', to: 'approve' },
      { from: 'approve', fromPort: 'approved', to: 'yes' },
      { from: 'approve', fromPort: 'rejected', to: 'no' },
    ],
  });


  async function execution(id: string) {
    return (await admin.get(`/api/v1/executions/${id}`).expect(200)).body;
  }

  /** starts a run of the flow and returns once its approval node waits */
  async function waitingRun(params: Record<string, unknown>, input: unknown = { invoice: 'INV-1' }): Promise<{ workflowId: string; executionId: string }> {
    const { body: wf } = await admin.post('/api/v1/workflows').send(approvalFlow(params)).expect(201);
    const { body: started } = await admin.post(`/api/v1/workflows/${wf.id}/executions`).send({ input }).expect(202);
    await eventually('the approval to wait', async () => ((await execution(started.id)).status === 'waiting' ? true : undefined));
    return { workflowId: wf.id, executionId: started.id };
  }

  async function finished(id: string) {
    return eventually(`execution ${id} to finish`, async () => {
      const e = await execution(id);
      return ['succeeded', 'failed', 'cancelled'].includes(e.status) ? e : undefined;
    });
  }

  const run = (e: { nodeRuns: Array<{ nodeId: string }> }, id: string) => e.nodeRuns.find((n) => n.nodeId === id) as Record<string, unknown>;

  it('waits holding no memory, then an approver approves: out of port approved with {decision, by, at, comment}', async () => {
    const { executionId } = await waitingRun({ approvers: ['alice'], message: 'Pay INV-1?' });
    const waiting = await execution(executionId);
    expect(run(waiting, 'approve')).toMatchObject({ status: 'waiting' });
    // the reserved token is not offered for POST /resume
    expect(run(waiting, 'approve').resumeToken).toBeUndefined();
    // released from memory once the wait is durable
    await eventually('the waiting execution to leave memory', async () => (t.engine.view(executionId) === undefined ? true : undefined));

    const res = await as('alice').post(`/api/v1/executions/${executionId}/approvals/approve`).send({ decision: 'approve', comment: 'looks right' }).expect(200);
    expect(res.body).toMatchObject({ id: executionId, executionId, nodeId: 'approve', decision: 'approve', by: 'alice', comment: 'looks right' });
    const done = await finished(executionId);
    expect(done.status).toBe('succeeded');
    const decision = { decision: 'approve', by: 'alice', at: res.body.at, comment: 'looks right' };
    expect(run(done, 'approve')).toMatchObject({ status: 'succeeded', output: { approved: decision } });
    expect(run(done, 'yes').status).toBe('succeeded');
    expect(run(done, 'no').status).toBe('skipped');
    expect(new Date(res.body.at).toISOString()).toBe(res.body.at);

    // the decision is in the event history…
    const { body: events } = await admin.get(`/api/v1/executions/${executionId}/events`).expect(200);
    expect(events.items.filter((e: { type: string }) => e.type === 'node.resumed')).toEqual([expect.objectContaining({ nodeId: 'approve', reason: 'signal', data: decision })]);
    // …and in the audit log: the call (with its caller) and the resume (with the decision)
    await t.app.get(AuditService).flush();
    const entries: Array<{ actor: string; action: string; target: string; details: Record<string, unknown> }> = [];
    for (let after = 0; ; ) {
      const page = await admin.get(`/api/v1/audit?afterSeq=${after}&limit=500`).expect(200);
      entries.push(...page.body.items);
      if (page.body.nextAfterSeq === undefined) break;
      after = page.body.nextAfterSeq;
    }
    const mine = entries.filter((e) => e.target === `execution:${executionId}`);
    expect(mine).toEqual(expect.arrayContaining([expect.objectContaining({ action: 'approvals.decide', actor: expect.stringMatching(/^key:/) })]));
    // the engine's events, in whichever entry of their turn
    const engineEvents = auditedExecutionEvents(entries, executionId);
    expect(engineEvents).toEqual(expect.arrayContaining([expect.objectContaining({ action: 'execution.node.resumed', nodeId: 'approve', decision: 'approve', by: 'alice' })]));
  });

  it('a rejection leaves by port rejected; a role in approvers admits every key of that role', async () => {
    const { executionId } = await waitingRun({ approvers: ['operator'] });
    await as('bob').post(`/api/v1/executions/${executionId}/approvals/approve`).send({ decision: 'reject' }).expect(200);
    const done = await finished(executionId);
    expect(run(done, 'approve')).toMatchObject({ status: 'succeeded', output: { rejected: { decision: 'reject', by: 'bob' } } });
    expect(done.output).toEqual({ no: { decision: 'reject', by: 'bob', at: expect.any(String), paid: false } });
  });

  it('refuses a caller not among the approvers (403) and one without approvals:decide (403); the node keeps waiting', async () => {
    const { executionId } = await waitingRun({ approvers: ['alice'] });
    const wrong = await as('bob').post(`/api/v1/executions/${executionId}/approvals/approve`).send({ decision: 'approve' }).expect(403);
    expect(wrong.body.error).toMatchObject({ code: 'NOT_AN_APPROVER', message: expect.stringContaining('alice') });
    await as('vera').post(`/api/v1/executions/${executionId}/approvals/approve`).send({ decision: 'approve' }).expect(403);
    await as('eddie').post(`/api/v1/executions/${executionId}/approvals/approve`).send({ decision: 'approve' }).expect(403);
    // an admin is no approver unless named either
    await admin.post(`/api/v1/executions/${executionId}/approvals/approve`).send({ decision: 'approve' }).expect(403);
    expect((await execution(executionId)).status).toBe('waiting');
    await as('alice').post(`/api/v1/executions/${executionId}/approvals/approve`).send({ decision: 'approve' }).expect(200);
    expect((await finished(executionId)).output).toEqual({ yes: { decision: 'approve', by: 'alice', at: expect.any(String), paid: true } });
  });

  it('a second decision gets 409 and changes nothing, also when both are sent at once', async () => {
    const { executionId } = await waitingRun({ approvers: ['alice', 'bob'] });
    const url = `/api/v1/executions/${executionId}/approvals/approve`;
    const [a, b] = await Promise.all([as('alice').post(url).send({ decision: 'approve' }), as('bob').post(url).send({ decision: 'reject' })]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    const loser = a.status === 409 ? a : b;
    expect(loser.body.error.code).toBe('ALREADY_DECIDED');
    const done = await finished(executionId);
    const winner = a.status === 200 ? 'approve' : 'reject';
    expect(Object.keys(run(done, 'approve').output as object)).toEqual([winner === 'approve' ? 'approved' : 'rejected']);
    const again = await as('alice').post(url).send({ decision: 'reject' }).expect(409);
    expect(again.body.error.code).toBe('ALREADY_DECIDED');
    const { body: events } = await admin.get(`/api/v1/executions/${executionId}/events`).expect(200);
    expect(events.items.filter((e: { type: string }) => e.type === 'node.resumed')).toHaveLength(1);
  });

  it('names what is wrong with a bad request: unknown node, not an approval, bad decision, not a uuid', async () => {
    const { executionId } = await waitingRun({ approvers: ['alice'] });
    expect((await as('alice').post(`/api/v1/executions/${executionId}/approvals/ghost`).send({ decision: 'approve' }).expect(404)).body.error.message).toContain('ghost');
    expect((await as('alice').post(`/api/v1/executions/${executionId}/approvals/yes`).send({ decision: 'approve' }).expect(404)).body.error.message).toContain('no approval node "yes"');
    const bad = await as('alice').post(`/api/v1/executions/${executionId}/approvals/approve`).send({ decision: 'maybe' }).expect(400);
    expect(JSON.stringify(bad.body.error)).toContain('decision');
    await as('alice').post('/api/v1/executions/not-a-uuid/approvals/approve').send({ decision: 'approve' }).expect(404);
    await as('alice').post(`/api/v1/executions/${executionId}/approvals/approve`).send({ decision: 'approve' }).expect(200);
  });

  it('the public resume route cannot deliver a decision (the approval token is reserved)', async () => {
    const { executionId } = await waitingRun({ approvers: ['alice'] });
    const token = `approval:${executionId}:approve`;
    await admin.post(`/api/v1/resume/${encodeURIComponent(token)}`).send({ data: { decision: 'approve', by: 'mallory', at: new Date().toISOString() } }).expect(404);
    expect((await execution(executionId)).status).toBe('waiting');
    await as('alice').post(`/api/v1/executions/${executionId}/approvals/approve`).send({ decision: 'reject' }).expect(200);
    await finished(executionId);
  });

  it.each([
    ['reject', 'rejected', 'succeeded'],
    ['approve', 'approved', 'succeeded'],
    ['fail', undefined, 'failed'],
  ] as const)('times out after timeoutMs with onTimeout %s', async (onTimeout, port, status) => {
    const { body: wf } = await admin.post('/api/v1/workflows').send(approvalFlow({ approvers: ['alice'], timeoutMs: 200, onTimeout })).expect(201);
    const { body: started } = await admin.post(`/api/v1/workflows/${wf.id}/executions`).send({ input: {} }).expect(202);
    const done = await finished(started.id);
    expect(done.status).toBe(status);
    if (port) {
      expect(run(done, 'approve')).toMatchObject({ status: 'succeeded', output: { [port]: { decision: onTimeout, by: 'timeout', at: expect.any(String) } } });
    } else {
      expect(run(done, 'approve')).toMatchObject({ status: 'failed', error: { code: 'APPROVAL_TIMEOUT' } });
    }
    // deciding after the timeout is too late
    const late = await as('alice').post(`/api/v1/executions/${started.id}/approvals/approve`).send({ decision: 'approve' }).expect(409);
    expect(late.body.error.code).toBe('ALREADY_DECIDED');
  });

  it('GET /approvals?status=pending lists what waits for the caller, and only that', async () => {
    const forAlice = await waitingRun({ approvers: ['alice'], message: 'only alice' });
    const forOperators = await waitingRun({ approvers: ['operator'] });
    const list = async (who: ReturnType<typeof request.agent>) => {
      const items: Array<Record<string, unknown>> = [];
      for (let cursor: string | undefined; ; ) {
        const page = await who.get(`/api/v1/approvals?status=pending&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`).expect(200);
        items.push(...page.body.items);
        if (!page.body.nextCursor) return items;
        cursor = page.body.nextCursor;
      }
    };
    const alices = await list(as('alice'));
    expect(alices).toEqual(expect.arrayContaining([
      expect.objectContaining({ executionId: forAlice.executionId, workflowId: forAlice.workflowId, nodeId: 'approve', approvers: ['alice'], message: 'only alice', since: expect.any(String), decideAt: `/api/v1/executions/${forAlice.executionId}/approvals/approve` }),
      expect.objectContaining({ executionId: forOperators.executionId, approvers: ['operator'] }),
    ]));
    const bobs = (await list(as('bob'))).map((i) => i.executionId);
    expect(bobs).toContain(forOperators.executionId);
    expect(bobs).not.toContain(forAlice.executionId);
    await as('vera').get('/api/v1/approvals?status=pending').expect(403);
    await as('alice').get('/api/v1/approvals?status=decided').expect(400);

    await as('alice').post(`/api/v1/executions/${forAlice.executionId}/approvals/approve`).send({ decision: 'approve' }).expect(200);
    await finished(forAlice.executionId);
    expect((await list(as('alice'))).map((i) => i.executionId)).not.toContain(forAlice.executionId);
    await as('bob').post(`/api/v1/executions/${forOperators.executionId}/approvals/approve`).send({ decision: 'approve' }).expect(200);
    await finished(forOperators.executionId);
  });

  it('refuses approvers that are not a fixed list of names at save', async () => {
    for (const approvers of [[], '=["alice"]', ['=$trigger.who'], 'alice']) {
      const res = await admin.post('/api/v1/workflows').send(approvalFlow({ approvers })).expect(400);
      expect(res.body.error.details).toEqual(expect.arrayContaining([expect.objectContaining({ path: expect.stringContaining('approvers') })]));
    }
  });
});
