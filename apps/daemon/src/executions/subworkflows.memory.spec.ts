import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { eventually } from '../testing/eventually.js';
import { createMemoryApp, type MemoryApp } from '../testing/memory-app.js';

/** core.subworkflow and settings.errorWorkflowId over HTTP (in-memory ports). */
describe('sub-workflows and error workflows', () => {
  let t: MemoryApp;
  let http: ReturnType<typeof request.agent>;

  beforeAll(async () => {
    t = await createMemoryApp();
    http = request.agent(t.app.getHttpServer()).set('Authorization', `Bearer ${t.adminKey}`);
  });
  afterAll(async () => {
    await t?.close();
  });

  type Node = { id: string; type: string; params?: Record<string, unknown> };
  const flow = (nodes: Node[], extra: Record<string, unknown> = {}) => ({
    name: `flow ${Math.random().toString(36).slice(2, 8)}`,
    nodes: [{ id: 'start', type: 'core.trigger.manual' }, ...nodes],
    edges: nodes.map((n, i) => ({ from: i === 0 ? 'start' : nodes[i - 1]!.id, to: n.id })),
    ...extra,
  });

  async function create(body: object): Promise<string> {
    return (await http.post('/api/v1/workflows').send(body).expect(201)).body.id;
  }


  const execution = async (id: string) => (await http.get(`/api/v1/executions/${id}`).expect(200)).body;
  const finished = (id: string) =>
    eventually(`execution ${id} to finish`, async () => {
      const e = await execution(id);
      return ['succeeded', 'failed', 'cancelled'].includes(e.status) ? e : undefined;
    });
  const start = async (workflowId: string, input: unknown = {}) => (await http.post(`/api/v1/workflows/${workflowId}/executions`).send({ input }).expect(202)).body.id as string;
  const executionsOf = async (workflowId: string) => (await http.get(`/api/v1/executions?workflowId=${workflowId}&limit=100`).expect(200)).body.items as Array<{ id: string; status: string }>;
  const run = (e: { nodeRuns: Array<{ nodeId: string }> }, id: string) => e.nodeRuns.find((n) => n.nodeId === id) as Record<string, unknown>;

  it('with wait, the parent outputs the child\'s output; the child records its parent', async () => {
    const child = await create(flow([{ id: 'double', type: 'core.set', params: { fields: { doubled: '=n * 2' } } }]));
    const parent = await create(flow([{ id: 'sub', type: 'core.subworkflow', params: { workflowId: child, input: { n: '=n + 1' } } }, { id: 'after', type: 'core.set', params: { fields: { after: true } } }]));
    const id = await start(parent, { n: 20 });
    const done = await finished(id);
    expect(done.status).toBe('succeeded');
    expect(run(done, 'sub')).toMatchObject({ status: 'succeeded', output: { main: { double: { n: 21, doubled: 42 } } } });
    expect(done.output).toEqual({ after: { double: { n: 21, doubled: 42 }, after: true } });
    const [childRun] = await executionsOf(child);
    const childExec = await execution(childRun!.id);
    expect(childExec).toMatchObject({ status: 'succeeded', input: { n: 21 }, parent: { executionId: id, workflowId: parent, nodeId: 'sub', reason: 'subworkflow', wait: true, depth: 1 } });
  });

  /** a parent whose sub-workflow node waits for a child made of `childNodes`, once both wait */
  async function waitingParent(childNodes: Node[]): Promise<{ child: string; id: string; childId: string }> {
    const child = await create(flow(childNodes));
    const parent = await create(flow([{ id: 'sub', type: 'core.subworkflow', params: { workflowId: child } }]));
    const id = await start(parent);
    const childId = await eventually('the child to wait', async () => {
      const [c] = await executionsOf(child);
      return c?.status === 'waiting' ? c.id : undefined;
    });
    await eventually('the parent to wait', async () => ((await execution(id)).status === 'waiting' ? true : undefined));
    return { child, id, childId };
  }

  it('waits for a child that waits (a person, here), holding no memory; resumes once the child is done', async () => {
    const { child, id, childId } = await waitingParent([{ id: 'ok', type: 'core.approval', params: { approvers: ['admin'] } }]);
    // its own poll is minutes away (beyond the in-memory horizon): nothing of the parent stays in memory
    await eventually('the waiting parent to leave memory', async () => (t.engine.view(id) === undefined ? true : undefined));
    await http.post(`/api/v1/executions/${childId}/approvals/ok`).send({ decision: 'approve' }).expect(200);
    const done = await finished(id);
    expect(done.status).toBe('succeeded');
    expect(run(done, 'sub').output).toEqual({ main: { ok: expect.objectContaining({ decision: 'approve' }) } });
    const { body: events } = await http.get(`/api/v1/executions/${id}/events`).expect(200);
    // one child, started once, whatever the resumes
    expect(await executionsOf(child)).toHaveLength(1);
    expect(events.items.filter((e: { type: string }) => e.type === 'node.succeeded' && (e as unknown as { nodeId: string }).nodeId === 'sub')).toHaveLength(1);
  });

  it('fails with the child\'s error when the child fails', async () => {
    const child = await create(flow([{ id: 'boom', type: 'core.transform', params: { expression: '$error("the child broke")' } }]));
    const parent = await create(flow([{ id: 'sub', type: 'core.subworkflow', params: { workflowId: child } }]));
    const done = await finished(await start(parent));
    expect(done.status).toBe('failed');
    expect(run(done, 'sub')).toMatchObject({ status: 'failed', error: { code: 'SUBWORKFLOW_FAILED', message: expect.stringContaining('the child broke') } });
  });

  it('fire-and-forget: outputs {executionId} at once and the child runs on its own', async () => {
    const child = await create(flow([{ id: 'ok', type: 'core.approval', params: { approvers: ['admin'] } }]));
    const parent = await create(flow([{ id: 'sub', type: 'core.subworkflow', params: { workflowId: child, wait: false } }]));
    const done = await finished(await start(parent));
    expect(done.status).toBe('succeeded');
    const childId = (run(done, 'sub').output as { main: { executionId: string } }).main.executionId;
    expect(run(done, 'sub').output).toEqual({ main: { executionId: childId, workflowId: child, workflowVersion: 1 } });
    const childExec = await eventually('the child to wait', async () => {
      const c = await execution(childId);
      return c.status === 'waiting' ? c : undefined;
    });
    expect(childExec.parent).toMatchObject({ executionId: done.id, wait: false });
    await http.post(`/api/v1/executions/${childId}/approvals/ok`).send({ decision: 'reject' }).expect(200);
    expect((await finished(childId)).status).toBe('succeeded');
  });

  it('cancelling the parent cancels the child it waits for', async () => {
    const { id, childId } = await waitingParent([{ id: 'hold', type: 'core.wait', params: { ms: 3_600_000 } }]);
    await http.post(`/api/v1/executions/${id}/cancel`).send({}).expect(202);
    expect((await finished(id)).status).toBe('cancelled');
    const c = await finished(childId);
    expect(c.status).toBe('cancelled');
    expect(run(c, 'hold').status).toBe('cancelled');
  });

  it('refuses at save a change that closes a cycle of sub-workflows, naming the chain', async () => {
    const a = await create(flow([{ id: 'noop', type: 'core.noop' }]));
    const b = await create(flow([{ id: 'toA', type: 'core.subworkflow', params: { workflowId: a } }]));
    const res = await http.put(`/api/v1/workflows/${a}`).send({ ...flow([{ id: 'toB', type: 'core.subworkflow', params: { workflowId: b } }]), version: 1 }).expect(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    expect(res.body.error.details).toEqual([expect.objectContaining({ code: 'SUBWORKFLOW_CYCLE', path: '$.nodes[1].params.workflowId', nodeId: 'toB', workflows: [a, b, a] })]);
    // calling itself directly is a cycle too
    const self = await http.put(`/api/v1/workflows/${a}`).send({ ...flow([{ id: 'me', type: 'core.subworkflow', params: { workflowId: a, wait: false } }]), version: 1 }).expect(400);
    expect(self.body.error.details[0]).toMatchObject({ code: 'SUBWORKFLOW_CYCLE', workflows: [a, a] });
    // nothing was saved
    expect((await http.get(`/api/v1/workflows/${a}`).expect(200)).body.version).toBe(1);
  });

  it('cuts a cycle it could not see at save (an expression) at the depth limit', async () => {
    const rec = await create(flow([{ id: 'again', type: 'core.subworkflow', params: { workflowId: '=$execution.workflowId' } }]));
    const done = await finished(await start(rec));
    expect(done.status).toBe('failed');
    expect(run(done, 'again').error).toMatchObject({ code: 'SUBWORKFLOW_FAILED' });
    const all = await executionsOf(rec);
    // the top-level run and 10 nested children (the engine's default maxSubworkflowDepth), all failed
    expect(all).toHaveLength(11);
    expect(all.every((e) => e.status === 'failed')).toBe(true);
    const deepest = await Promise.all(all.map((e) => execution(e.id)));
    const last = deepest.find((e) => e.parent?.depth === 10)!;
    expect(run(last, 'again').error).toMatchObject({ code: 'SUBWORKFLOW_DEPTH' });
  });

  it('a failed execution starts its error workflow with {executionId, workflowId, failedNode, error, input}', async () => {
    const onError = await create(flow([{ id: 'note', type: 'core.set', params: { fields: { noted: true } } }]));
    const failing = await create(flow([{ id: 'boom', type: 'core.transform', params: { expression: '$error("out of stock")' } }], { settings: { errorWorkflowId: onError } }));
    const id = await start(failing, { order: 7 });
    expect((await finished(id)).status).toBe('failed');
    const errorRun = await eventually('the error workflow to run', async () => {
      const [e] = await executionsOf(onError);
      return e ? finished(e.id) : undefined;
    });
    expect(errorRun.status).toBe('succeeded');
    expect(errorRun.input).toEqual({ executionId: id, workflowId: failing, failedNode: 'boom', error: expect.objectContaining({ message: expect.stringContaining('out of stock') }), input: { order: 7 } });
    expect(errorRun.parent).toMatchObject({ executionId: id, reason: 'error' });
    // a run that succeeds starts nothing
    const ok = await create(flow([{ id: 'fine', type: 'core.noop' }], { settings: { errorWorkflowId: onError } }));
    await finished(await start(ok));
    expect(await executionsOf(onError)).toHaveLength(1);
  });

  it('an error workflow that fails does not start error workflows (no loops)', async () => {
    const loop = await create(flow([{ id: 'boom', type: 'core.transform', params: { expression: '$error("again")' } }]));
    await http.put(`/api/v1/workflows/${loop}`).send({ ...flow([{ id: 'boom', type: 'core.transform', params: { expression: '$error("again")' } }], { settings: { errorWorkflowId: loop } }), version: 1 }).expect(200);
    const id = await start(loop);
    await finished(id);
    const second = await eventually('the error run', async () => {
      const runs = await executionsOf(loop);
      return runs.length === 2 ? runs.find((r) => r.id !== id) : undefined;
    });
    expect((await finished(second.id)).status).toBe('failed');
    // nothing signals "no third run": give one every chance to appear (it would start within a few ticks)
    await new Promise((r) => setTimeout(r, 300));
    expect(await executionsOf(loop)).toHaveLength(2);
  });

  it('validates settings: unknown keys and a malformed errorWorkflowId are named', async () => {
    const res = await http.post('/api/v1/workflows').send(flow([{ id: 'n', type: 'core.noop' }], { settings: { errorWorkflowId: 'not a valid id!', retries: 3 } })).expect(400);
    expect(res.body.error.details).toEqual(expect.arrayContaining([
      expect.objectContaining({ path: '$.settings.errorWorkflowId' }),
      expect.objectContaining({ path: '$.settings.retries' }),
    ]));
  });
});
