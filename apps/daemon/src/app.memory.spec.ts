import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { createMemoryApp, type MemoryApp } from './testing/memory-app.js';

/** The daemon in-process on in-memory ports: HTTP contract, errors, webhooks (no PostgreSQL needed). */
describe('daemon over HTTP (in-memory ports)', () => {
  let t: MemoryApp;
  let http: ReturnType<typeof request.agent>;

  beforeAll(async () => {
    t = await createMemoryApp({ env: { ANCHORFLOW_HOOKS_RESPONSE_TIMEOUT_MS: '2000', ANCHORFLOW_HTTP_BODY_LIMIT: '2kb' } });
    // every route but health and webhooks needs a key: the app's admin key on every request
    http = request.agent(t.app.getHttpServer()).set('Authorization', `Bearer ${t.adminKey}`);
  });
  afterAll(async () => {
    await t?.close();
  });

  const linear = {
    name: 'linear',
    nodes: [
      { id: 'start', type: 'core.trigger.manual', params: {} },
      { id: 'add', type: 'core.set', params: { fields: { doubled: '=n * 2' } } },
    ],
    edges: [{ from: 'start', to: 'add' }],
  };

  it('answers liveness and readiness', async () => {
    const live = await http.get('/api/v1/health').expect(200);
    expect(live.body.status).toBe('ok');
    const ready = await http.get('/api/v1/health/ready').expect(200);
    expect(ready.body.status).toBe('ok');
    expect(ready.body.info.database.status).toBe('up');
  });

  it('lists the node type catalog with a params schema per type', async () => {
    const res = await http.get('/api/v1/node-types').expect(200);
    const types = res.body.items.map((i: { type: string }) => i.type);
    expect(types).toEqual(expect.arrayContaining(['core.trigger.manual', 'core.trigger.webhook', 'core.set', 'core.if', 'core.wait', 'core.http']));
    expect(res.body.items[0].paramsSchema).toEqual(expect.objectContaining({ type: 'object' }));
  });

  it('creates, reads, versions and lists a workflow', async () => {
    const created = await http.post('/api/v1/workflows').send(linear).expect(201);
    expect(created.body).toMatchObject({ version: 1, active: false, name: 'linear', nodes: linear.nodes });
    const id = created.body.id as string;
    await http.get(`/api/v1/workflows/${id}`).expect(200);
    const v2 = await http.put(`/api/v1/workflows/${id}`).send({ ...linear, name: 'linear v2', version: 1 }).expect(200);
    expect(v2.body).toMatchObject({ version: 2, name: 'linear v2' });
    const stale = await http.put(`/api/v1/workflows/${id}`).send({ ...linear, version: 1 }).expect(409);
    expect(stale.body.error.code).toBe('CONFLICT');
    const old = await http.get(`/api/v1/workflows/${id}?version=1`).expect(200);
    expect(old.body.name).toBe('linear');
    await http.get(`/api/v1/workflows/${id}?version=9`).expect(404);
    const list = await http.get('/api/v1/workflows?limit=100').expect(200);
    expect(list.body.items.map((w: { id: string }) => w.id)).toContain(id);
  });

  it('rejects an invalid graph with every problem listed', async () => {
    const res = await http
      .post('/api/v1/workflows')
      .send({
        name: 'bad',
        nodes: [
          { id: 'a', type: 'core.trigger.manual' },
          { id: 'a', type: 'core.nope' },
          { id: 'b', type: 'core.set', params: { fields: 5 } },
        ],
        edges: [{ from: 'a', to: 'ghost' }],
      })
      .expect(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    const codes = res.body.error.details.map((p: { code: string }) => p.code);
    expect(codes).toEqual(expect.arrayContaining(['DUPLICATE_NODE_ID', 'UNKNOWN_NODE_TYPE', 'INVALID_PARAMS', 'DANGLING_EDGE']));
  });

  it('runs an execution, waits for it and shows node runs and events', async () => {
    const { body: wf } = await http.post('/api/v1/workflows').send(linear).expect(201);
    const started = await http.post(`/api/v1/workflows/${wf.id}/executions?wait=5000`).send({ input: { n: 21 } }).expect(200);
    expect(started.body).toMatchObject({ workflowId: wf.id, version: 1, status: 'succeeded', input: { n: 21 } });
    expect(typeof started.body.startedAt).toBe('string');
    expect(started.body.output).toEqual({ add: expect.anything() });
    const add = started.body.nodeRuns.find((r: { nodeId: string }) => r.nodeId === 'add');
    expect(add).toMatchObject({ status: 'succeeded', attempt: 1 });
    expect(Date.parse(add.finishedAt)).toBeGreaterThan(0);

    const got = await http.get(`/api/v1/executions/${started.body.id}`).expect(200);
    expect(got.body.status).toBe('succeeded');
    const events = await http.get(`/api/v1/executions/${started.body.id}/events`).expect(200);
    const types = events.body.items.map((e: { type: string }) => e.type);
    expect(types[0]).toBe('execution.started');
    expect(types.at(-1)).toBe('execution.finished');
    expect(events.body.items.map((e: { seq: number }) => e.seq)).toEqual(types.map((_: string, i: number) => i + 1));
    const after = await http.get(`/api/v1/executions/${started.body.id}/events?afterSeq=1&limit=1`).expect(200);
    expect(after.body.items).toHaveLength(1);
    expect(after.body.items[0].seq).toBe(2);

    const list = await http.get(`/api/v1/executions?workflowId=${wf.id}&status=succeeded`).expect(200);
    expect(list.body.items.map((e: { id: string }) => e.id)).toContain(started.body.id);
  });

  it('starts with no body at all (input {}) and refuses an array body', async () => {
    const { body: wf } = await http.post('/api/v1/workflows').send(linear).expect(201);
    const res = await http.post(`/api/v1/workflows/${wf.id}/executions`).expect(202);
    expect((await t.engine.whenFinished(res.body.executionId, 5000))?.input).toEqual({});
    const arr = await http.post(`/api/v1/workflows/${wf.id}/executions`).send([1, 2]).expect(400);
    expect(arr.body.error.code).toBe('INVALID_REQUEST');
  });

  it('answers 202 with the execution reference {id, executionId, status} without wait, and cancel answers the same shape', async () => {
    const { body: wf } = await http.post('/api/v1/workflows').send(linear).expect(201);
    const res = await http.post(`/api/v1/workflows/${wf.id}/executions`).send({ input: { n: 1 } }).expect(202);
    expect(res.body).toEqual({ id: expect.any(String), executionId: res.body.id, status: expect.stringMatching(/^(running|queued)$/) });
    expect(await t.engine.whenFinished(res.body.id, 5000)).toMatchObject({ status: 'succeeded' });
  });

  it('cancels a waiting execution and refuses to cancel it twice', async () => {
    const { body: wf } = await http
      .post('/api/v1/workflows')
      .send({ name: 'slow', nodes: [{ id: 's', type: 'core.trigger.manual' }, { id: 'w', type: 'core.wait', params: { ms: 60000 } }], edges: [{ from: 's', to: 'w' }] })
      .expect(201);
    const { body } = await http.post(`/api/v1/workflows/${wf.id}/executions`).send({}).expect(202);
    const cancelled = await http.post(`/api/v1/executions/${body.id}/cancel`).send({}).expect(202);
    expect(cancelled.body).toEqual({ id: body.id, executionId: body.id, status: 'cancelling' });
    const finished = await t.engine.whenFinished(body.executionId, 5000);
    expect(finished?.status).toBe('cancelled');
    const again = await http.post(`/api/v1/executions/${body.executionId}/cancel`).send({}).expect(409);
    expect(again.body.error.code).toBe('EXECUTION_FINISHED');
  });

  it('lays a graph out left to right', async () => {
    const res = await http.post('/api/v1/workflows/layout').send(linear).expect(200);
    const [a, b] = res.body.nodes;
    expect(a.type).toBe('core.trigger.manual');
    expect(b.position.x).toBeGreaterThan(a.position.x);
    expect(res.body.edges).toEqual(linear.edges);
  });

  describe('errors', () => {
    it('malformed JSON → 400 MALFORMED_JSON', async () => {
      const res = await http.post('/api/v1/workflows').set('Content-Type', 'application/json').send('{"name": ').expect(400);
      expect(res.body.error.code).toBe('MALFORMED_JSON');
    });

    it('JSON nested deeper than http.maxJsonDepth → 400 JSON_TOO_DEEP, on webhooks too', async () => {
      const deep = `{"name":"x","nodes":${'['.repeat(150)}${']'.repeat(150)},"edges":[]}`;
      const res = await http.post('/api/v1/workflows').set('Content-Type', 'application/json').send(deep).expect(400);
      expect(res.body.error).toMatchObject({ code: 'JSON_TOO_DEEP', details: { maxDepth: 100 } });
      const hook = await http.post('/hooks/anything').set('Content-Type', 'application/json').send('['.repeat(101) + ']'.repeat(101)).expect(400);
      expect(hook.body.error.code).toBe('JSON_TOO_DEEP');
    });

    it('oversized body → 413', async () => {
      const res = await http.post('/api/v1/workflows').send({ name: 'x'.repeat(5000), nodes: [], edges: [] }).expect(413);
      expect(res.body.error.code).toBe('PAYLOAD_TOO_LARGE');
    });

    it('unknown route → 404 in the error shape', async () => {
      const res = await http.get('/api/v1/nothing-here').expect(404);
      expect(res.body.error.code).toBe('NOT_FOUND');
    });

    it('bad ids → 404, never 500', async () => {
      for (const path of ['/api/v1/workflows/not-a-uuid', '/api/v1/executions/123', '/api/v1/executions/%27;drop/events']) {
        const res = await http.get(path);
        expect(res.status).toBe(404);
        expect(res.body.error.code).toBe('NOT_FOUND');
      }
      await http.post('/api/v1/resume/x').send({}).expect(404);
      // the first release's path still answers (left out of the OpenAPI document)
      const legacy = await http.post('/api/v1/executions/resume/x').send({}).expect(404);
      expect(legacy.body.error.message).toMatch(/no node is waiting on this resume token/);
    });

    it('bad query and body params → 400 listing every problem', async () => {
      const res = await http.get('/api/v1/executions?limit=0&status=weird&extra=1').expect(400);
      expect(res.body.error.code).toBe('INVALID_REQUEST');
      expect(res.body.error.details.map((p: { path: string }) => p.path).sort()).toEqual(['extra', 'limit', 'status']);
      const { body: wf } = await http.post('/api/v1/workflows').send(linear).expect(201);
      const bad = await http.post(`/api/v1/workflows/${wf.id}/executions`).send({ input: 1, triggerNodeId: 5, other: true }).expect(400);
      expect([...new Set(bad.body.error.details.map((p: { path: string }) => p.path))].sort()).toEqual(['other', 'triggerNodeId']);
      const badWait = await http.post(`/api/v1/workflows/${wf.id}/executions?wait=soon`).send({}).expect(400);
      expect(new Set(badWait.body.error.details.map((p: { path: string }) => p.path))).toEqual(new Set(['wait']));
      const unknownNode = await http.post(`/api/v1/workflows/${wf.id}/executions`).send({ triggerNodeId: 'ghost' }).expect(400);
      expect(unknownNode.body.error.code).toBe('INVALID_INPUT');
    });

    it('PUT without version → 400', async () => {
      const { body: wf } = await http.post('/api/v1/workflows').send(linear).expect(201);
      const res = await http.put(`/api/v1/workflows/${wf.id}`).send(linear).expect(400);
      expect(res.body.error.details[0].path).toBe('version');
    });
  });

  describe('webhooks', () => {
    const hookFlow = (path: string, extra: Record<string, unknown> = {}) => ({
      name: `hook ${path}`,
      nodes: [
        { id: 'hook', type: 'core.trigger.webhook', params: { path, ...extra } },
        { id: 'tag', type: 'core.set', params: { fields: { seen: true } } },
      ],
      edges: [{ from: 'hook', to: 'tag' }],
    });

    it('404 until the workflow is active; lastNode answers with the output', async () => {
      const { body: wf } = await http.post('/api/v1/workflows').send(hookFlow('orders/new', { respond: 'lastNode', publicOutput: true })).expect(201);
      const before = await http.post('/hooks/orders/new').send({ id: 7 }).expect(404);
      expect(before.body.error.code).toBe('NOT_FOUND');
      await http.post(`/api/v1/workflows/${wf.id}/activate`).expect(200);
      const res = await http.post('/hooks/orders/new').send({ id: 7 }).expect(200);
      expect(res.headers['x-anchorflow-execution-id']).toMatch(/^[0-9a-f-]{36}$/);
      expect(JSON.stringify(res.body)).toContain('"seen":true');
      const wrongMethod = await http.get('/hooks/orders/new').expect(405);
      expect(wrongMethod.body.error.code).toBe('METHOD_NOT_ALLOWED');
      await http.post(`/api/v1/workflows/${wf.id}/deactivate`).expect(200);
      await http.post('/hooks/orders/new').send({ id: 7 }).expect(404);
    });

    it('immediately answers 202; a second workflow cannot take the same route', async () => {
      const { body: a } = await http.post('/api/v1/workflows').send(hookFlow('ping')).expect(201);
      const { body: b } = await http.post('/api/v1/workflows').send(hookFlow('ping')).expect(201);
      await http.post(`/api/v1/workflows/${a.id}/activate`).expect(200);
      const conflict = await http.post(`/api/v1/workflows/${b.id}/activate`).expect(409);
      expect(conflict.body.error.code).toBe('CONFLICT');
      const res = await http.post('/hooks/ping').send({ x: 1 }).expect(202);
      expect(res.body.executionId).toBe(res.headers['x-anchorflow-execution-id']);
      const done = await t.engine.whenFinished(res.body.executionId, 5000);
      expect(done?.input).toEqual({ x: 1 });
      await http.delete(`/api/v1/workflows/${a.id}`).expect(204);
      await http.post('/hooks/ping').send({}).expect(404);
      await http.post(`/api/v1/workflows/${b.id}/activate`).expect(200);
      await http.post('/hooks/ping').send({}).expect(202);
    });

    it('include: request hands the whole request to the workflow; updates re-route at once', async () => {
      const { body: wf } = await http.post('/api/v1/workflows').send(hookFlow('req', { include: 'request', method: 'PUT', respond: 'lastNode', publicOutput: true })).expect(201);
      await http.post(`/api/v1/workflows/${wf.id}/activate`).expect(200);
      const res = await http.put('/hooks/req?q=1').set('X-Custom', 'yes').send({ a: 1 }).expect(200);
      expect(res.body).toMatchObject({ body: { a: 1 }, query: { q: '1' }, method: 'PUT', path: 'req', seen: true });
      expect(res.body.headers['x-custom']).toBe('yes');
      await http.put(`/api/v1/workflows/${wf.id}`).send({ ...hookFlow('req2', { method: 'PUT' }), version: 1 }).expect(200);
      await http.put('/hooks/req').send({}).expect(404);
      await http.put('/hooks/req2').send({}).expect(202);
    });
  });

  it('serves the OpenAPI document', async () => {
    const res = await http.get('/api/docs/openapi.json').expect(200);
    expect(Object.keys(res.body.paths)).toEqual(expect.arrayContaining(['/api/v1/workflows', '/api/v1/executions/{id}', '/api/v1/node-types']));
  });
});
