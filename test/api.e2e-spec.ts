/**
 * The REST contract (ARCHITECTURE §5) and the execution semantics (§4), black-box: a real daemon process
 * on the run's database, driven over HTTP; side effects land on a real HTTP receiver.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  Api, isErrorShape, listItems, nextCursorOf, nodeRun, pathTokens, problemsOf, statuses, toMs,
  type Execution, type ExecutionEventRecord, type Problem, type WorkflowJson,
} from './support/api.js';
import { startDaemon, type Daemon } from './support/daemon.js';
import { loadFixture } from './support/fixtures.js';
import { chain, edge, manual, node, uid, workflow } from './support/graph.js';
import { gate, startHttpReceiver, type HttpReceiver } from './support/http-receiver.js';

let daemon: Daemon;
let api: Api;
let receiver: HttpReceiver;

beforeAll(async () => {
  [daemon, receiver] = await Promise.all([startDaemon({ name: 'api' }), startHttpReceiver()]);
  api = new Api(daemon.url);
}, 120_000);

afterAll(async () => {
  await receiver?.close();
  await daemon?.stop();
});

const is2xx = (status: number): boolean => status >= 200 && status < 300;

/** The one documented error answer: this status, `{error: {code, message}}` with this code. */
function expectError(res: { status: number; body: unknown; text: string }, status: number, code: string): void {
  expect({ status: res.status, errorShape: isErrorShape(res.body), code: (res.body as { error?: { code?: string } })?.error?.code, text: res.text.slice(0, 300) })
    .toEqual({ status, errorShape: true, code, text: expect.any(String) });
}

function eventsOf(events: ExecutionEventRecord[], type: string, nodeId?: string): ExecutionEventRecord[] {
  return events.filter((e) => e.type === type && (nodeId === undefined || e.nodeId === nodeId));
}

describe('health', () => {
  it('answers liveness and readiness (the database is up)', async () => {
    expect((await api.get('/api/v1/health')).status).toBe(200);
    const ready = await api.get('/api/v1/health/ready');
    expect({ status: ready.status, body: ready.body }).toMatchObject({ status: 200 });
  });
});

describe('OpenAPI', () => {
  it('is served at /api/docs and describes the workflow and execution routes', async () => {
    const page = await api.get('/api/docs');
    expect(page.status).toBe(200);
    const doc = await api.get('/api/docs/openapi.json');
    expect(doc.status).toBe(200);
    // every route of the contract (ARCHITECTURE §5) with the success status it really answers
    const contract: Array<[string, string, string]> = [
      ['post', '/api/v1/workflows', '201'], ['get', '/api/v1/workflows', '200'], ['get', '/api/v1/workflows/{id}', '200'],
      ['put', '/api/v1/workflows/{id}', '200'], ['post', '/api/v1/workflows/{id}/executions', '202'],
      ['get', '/api/v1/executions', '200'], ['get', '/api/v1/executions/{id}', '200'], ['get', '/api/v1/executions/{id}/events', '200'],
      ['post', '/api/v1/executions/{id}/cancel', '202'], ['post', '/api/v1/resume/{token}', '202'], ['get', '/api/v1/node-types', '200'],
    ];
    const paths = doc.body.paths as Record<string, Record<string, { responses?: Record<string, unknown> }>>;
    const documented = contract.map(([method, route, status]) => [method, route, paths[route]?.[method]?.responses?.[status] ? status : `missing (${Object.keys(paths[route]?.[method]?.responses ?? {}).join(',') || 'no operation'})`]);
    expect(documented).toEqual(contract);
    // and the live answer is the documented one
    const created = await api.post('/api/v1/workflows', workflow(`openapi ${uid()}`, [manual(), node('n', 'core.noop')], chain('start', 'n')));
    expect(created.status).toBe(201);
    const started = await api.post(`/api/v1/workflows/${created.body.id}/executions`, { input: {} });
    expect(started.status).toBe(202);
  });
});

describe('node types catalog', () => {
  const CORE = ['core.trigger.manual', 'core.trigger.webhook', 'core.transform', 'core.set', 'core.if', 'core.switch', 'core.merge', 'core.wait', 'core.http', 'core.noop', 'core.approval', 'core.subworkflow'];

  it('lists every core node type with its ports and a JSON schema of its params', async () => {
    const res = await api.get('/api/v1/node-types');
    expect(res.status).toBe(200);
    const types = listItems<Record<string, any>>(res.body);
    const byType = new Map(types.map((t) => [t.type as string, t]));
    expect(CORE.filter((t) => !byType.has(t))).toEqual([]);
    for (const t of CORE) {
      const entry = byType.get(t)!;
      expect({ type: t, version: entry.version, title: typeof entry.title, category: typeof entry.category, inputs: Array.isArray(entry.inputs), schemaType: entry.paramsSchema?.type })
        .toEqual({ type: t, version: expect.any(Number), title: 'string', category: 'string', inputs: true, schemaType: 'object' });
    }
    expect(byType.get('core.trigger.manual')!.inputs).toEqual([]);
    expect(byType.get('core.if')!.outputs).toEqual(expect.arrayContaining(['true', 'false']));
    expect(Object.keys(byType.get('core.trigger.webhook')!.paramsSchema.properties ?? {})).toEqual(expect.arrayContaining(['path', 'method', 'respond']));
    expect(Object.keys(byType.get('core.http')!.paramsSchema.properties ?? {})).toEqual(expect.arrayContaining(['method', 'url', 'headers', 'body', 'timeoutMs']));
    expect(Object.keys(byType.get('core.wait')!.paramsSchema.properties ?? {})).toEqual(expect.arrayContaining(['ms']));
    expect(Object.keys(byType.get('core.merge')!.paramsSchema.properties ?? {})).toEqual(expect.arrayContaining(['mode']));
    expect(byType.get('core.approval')!.outputs).toEqual(['approved', 'rejected']);
    expect(Object.keys(byType.get('core.approval')!.paramsSchema.properties ?? {})).toEqual(expect.arrayContaining(['approvers', 'message', 'timeoutMs', 'onTimeout']));
    expect(Object.keys(byType.get('core.subworkflow')!.paramsSchema.properties ?? {})).toEqual(expect.arrayContaining(['workflowId', 'version', 'wait', 'input']));
  });
});

describe('workflows: create, list, get, versions, delete', () => {
  const simple = (v: number): WorkflowJson => workflow(`crud ${uid()}`, [manual(), node('set', 'core.set', { fields: { v } })], chain('start', 'set'));

  it('creates (201) and reads back the same graph, by id and in the list', async () => {
    const def = simple(1);
    const res = await api.post('/api/v1/workflows', def);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ id: expect.any(String), version: 1, name: def.name });
    const got = await api.getWorkflow(res.body.id);
    expect(got).toMatchObject({ id: res.body.id, version: 1, name: def.name, nodes: def.nodes.map((n) => expect.objectContaining(n)), edges: def.edges.map((e) => expect.objectContaining(e)) });
    const list = await api.get('/api/v1/workflows');
    expect(list.status).toBe(200);
    expect(listItems<{ id: string }>(list.body).map((w) => w.id)).toContain(res.body.id);
  });

  it('PUT makes a new version; a stale version gets 409 and changes nothing; old versions stay readable', async () => {
    const created = await api.createWorkflow(simple(1));
    const put = await api.put(`/api/v1/workflows/${created.id}`, { ...simple(2), name: created.name, version: 1 });
    expect({ status: put.status, version: put.body?.version }).toEqual({ status: 200, version: 2 });

    const stale = await api.put(`/api/v1/workflows/${created.id}`, { ...simple(3), name: created.name, version: 1 });
    expectError(stale, 409, 'CONFLICT');

    const latest = await api.getWorkflow(created.id);
    expect(latest.version).toBe(2);
    expect(latest.nodes.find((n) => n.id === 'set')!.params).toEqual({ fields: { v: 2 } });
    const v1 = await api.getWorkflow(created.id, 1);
    expect(v1.version).toBe(1);
    expect(v1.nodes.find((n) => n.id === 'set')!.params).toEqual({ fields: { v: 1 } });
  });

  it('an execution keeps the version it started with, even when a new version lands while it runs', async () => {
    // the first execution is held in a request the receiver answers only after the new version landed
    const path = `/versions-${uid()}`;
    const held = gate();
    receiver.on(path, (_req, nth) => (nth === 1 ? { status: 200, body: {}, until: held.promise } : { status: 200, body: {} }));
    const graph = (v: number): WorkflowJson => workflow(`versions ${uid()}`, [
      manual(), node('set', 'core.set', { fields: { v } }), node('hold', 'core.http', { method: 'POST', url: receiver.url + path, body: {} }),
    ], chain('start', 'set', 'hold'));
    const created = await api.createWorkflow(graph(1));
    const first = await api.startExecution(created.id, { n: 1 });
    await receiver.waitFor((r) => r.path === path, { what: 'the held request of the first execution' });
    const put = await api.put(`/api/v1/workflows/${created.id}`, { ...graph(2), name: created.name, version: 1 });
    expect(put.status).toBe(200);
    expect((await api.getExecution(first)).status).toBe('running');
    held.release();

    const done = await api.waitForStatus(first, ['succeeded', 'failed']);
    expect({ status: done.status, version: done.version, set: nodeRun(done, 'set').output }).toEqual({ status: 'succeeded', version: 1, set: { main: { n: 1, v: 1 } } });

    const second = await api.run(created.id, { n: 2 }, 10_000);
    expect({ status: second.status, version: second.version, set: nodeRun(second, 'set').output }).toEqual({ status: 'succeeded', version: 2, set: { main: { n: 2, v: 2 } } });
    expect((await api.getExecution(first)).version).toBe(1);
  });

  it('DELETE removes it: 404 afterwards (with the error shape), also for runs and a second delete', async () => {
    const created = await api.createWorkflow(simple(1));
    const del = await api.delete(`/api/v1/workflows/${created.id}`);
    expect(is2xx(del.status)).toBe(true);
    expectError(await api.get(`/api/v1/workflows/${created.id}`), 404, 'NOT_FOUND');
    expectError(await api.delete(`/api/v1/workflows/${created.id}`), 404, 'NOT_FOUND');
    expectError(await api.post(`/api/v1/workflows/${created.id}/executions`, { input: {} }), 404, 'NOT_FOUND');
    const list = await api.get('/api/v1/workflows');
    expect(listItems<{ id: string }>(list.body).map((w) => w.id)).not.toContain(created.id);
  });

  it('an unknown workflow id is a 404 with the error shape', async () => {
    expectError(await api.get('/api/v1/workflows/00000000-0000-4000-8000-000000000000'), 404, 'NOT_FOUND');
  });
});

describe('validation: every problem at once, with node id and JSON path (400)', () => {
  const findProblem = (problems: Problem[], code: string, pred: (p: Problem) => boolean = () => true): Problem | undefined =>
    problems.find((p) => p.code === code && pred(p));
  const startsWith = (p: Problem, ...tokens: string[]): boolean => tokens.every((t, i) => pathTokens(p.path)[i] === t);

  it('reports unknown type, bad params, duplicate id, unknown port, dangling edge and a cycle naming its nodes in one 400', async () => {
    const name = `invalid ${uid()}`;
    const bad: WorkflowJson = {
      name,
      nodes: [
        manual(),                                           // 0
        node('mystery', 'core.does-not-exist'),            // 1 unknown type
        node('check', 'core.if', {}),                       // 2 bad params: condition missing
        node('dup', 'core.noop'),                           // 3
        node('dup', 'core.noop'),                           // 4 duplicate id
        node('c1', 'core.noop'),                            // 5
        node('c2', 'core.noop'),                            // 6
        node('pause', 'core.wait', { ms: 'soon' }),         // 7 bad params: wrong type
      ],
      edges: [
        edge('start', 'check'),                             // 0
        edge('start', 'c1', 'maybe'),                       // 1 unknown port
        edge('ghost', 'c1'),                                // 2 dangling (no such node)
        edge('c1', 'c2'),                                   // 3
        edge('c2', 'c1'),                                   // 4 closes the cycle c1 → c2 → c1
        edge('start', 'pause'),                             // 5
      ],
    };
    const res = await api.post('/api/v1/workflows', bad);
    expectError(res, 400, 'VALIDATION_FAILED');
    const problems = problemsOf(res.body);
    const summary = problems.map((p) => `${p.code} ${p.nodeId ?? '-'} ${p.path}`).join('\n');

    for (const p of problems) expect({ code: typeof p.code, message: typeof p.message, path: typeof p.path }).toEqual({ code: 'string', message: 'string', path: 'string' });
    const expectations: Array<[string, Problem | undefined]> = [
      ['UNKNOWN_NODE_TYPE mystery at nodes[1]', findProblem(problems, 'UNKNOWN_NODE_TYPE', (p) => p.nodeId === 'mystery' && startsWith(p, 'nodes', '1'))],
      ['INVALID_PARAMS check at nodes[2].params', findProblem(problems, 'INVALID_PARAMS', (p) => p.nodeId === 'check' && startsWith(p, 'nodes', '2', 'params'))],
      ['INVALID_PARAMS pause at nodes[7].params', findProblem(problems, 'INVALID_PARAMS', (p) => p.nodeId === 'pause' && startsWith(p, 'nodes', '7', 'params'))],
      ['DUPLICATE_NODE_ID dup at nodes[4]', findProblem(problems, 'DUPLICATE_NODE_ID', (p) => p.nodeId === 'dup' && (startsWith(p, 'nodes', '4') || startsWith(p, 'nodes', '3')))],
      ['UNKNOWN_PORT at edges[1]', findProblem(problems, 'UNKNOWN_PORT', (p) => startsWith(p, 'edges', '1'))],
      ['DANGLING_EDGE at edges[2]', findProblem(problems, 'DANGLING_EDGE', (p) => startsWith(p, 'edges', '2'))],
      ['CYCLE through c1 and c2', findProblem(problems, 'CYCLE', (p) => Array.isArray(p.nodes) && [...p.nodes].sort().join(',') === 'c1,c2')],
    ];
    expect({ missing: expectations.filter(([, p]) => !p).map(([what]) => what), got: summary }).toEqual({ missing: [], got: summary });

    const list = await api.get('/api/v1/workflows');
    expect(listItems<{ name: string }>(list.body).map((w) => w.name)).not.toContain(name);
  });

  it('a graph with no trigger or start node is refused (NO_START_NODE), its cycle named too', async () => {
    const res = await api.post('/api/v1/workflows', workflow(`no start ${uid()}`, [node('a', 'core.noop'), node('b', 'core.noop')], [edge('a', 'b'), edge('b', 'a')]));
    expectError(res, 400, 'VALIDATION_FAILED');
    const codes = problemsOf(res.body).map((p) => p.code);
    expect(codes).toEqual(expect.arrayContaining(['NO_START_NODE', 'CYCLE']));
  });

  it('PUT with an invalid graph is a 400 and keeps the current version', async () => {
    const created = await api.createWorkflow(workflow(`put invalid ${uid()}`, [manual(), node('n', 'core.noop')], chain('start', 'n')));
    const res = await api.put(`/api/v1/workflows/${created.id}`, { name: created.name, version: 1, nodes: [manual(), node('n', 'core.nope')], edges: chain('start', 'n') });
    expectError(res, 400, 'VALIDATION_FAILED');
    expect(problemsOf(res.body).map((p) => p.code)).toContain('UNKNOWN_NODE_TYPE');
    expect((await api.getWorkflow(created.id)).version).toBe(1);
  });
});

describe('running executions', () => {
  it('?wait returns the final execution: node runs with status, attempt, input, output, timings; events in seq order', async () => {
    const created = await api.createWorkflow(workflow(`run ${uid()}`, [
      manual(),
      node('calc', 'core.transform', { expression: '{ "total": price * qty, "qty": qty }' }),
      node('tag', 'core.set', { fields: { currency: 'EUR', doubled: '=total * 2', price: '=$trigger.price' } }),
    ], chain('start', 'calc', 'tag')));
    const input = { price: 2.5, qty: 4 };
    const before = Date.now();
    const exec = await api.run(created.id, input);
    const after = Date.now();

    expect(exec).toMatchObject({ id: expect.any(String), workflowId: created.id, version: 1, status: 'succeeded', input });
    expect(exec.output).toEqual({ tag: { total: 10, qty: 4, currency: 'EUR', doubled: 20, price: 2.5 } });
    expect(statuses(exec)).toEqual({ start: 'succeeded', calc: 'succeeded', tag: 'succeeded' });
    expect(nodeRun(exec, 'start').output).toEqual({ main: input });
    expect(nodeRun(exec, 'calc')).toMatchObject({ attempt: 1, output: { main: { total: 10, qty: 4 } } });
    expect(nodeRun(exec, 'tag')).toMatchObject({ attempt: 1, output: { main: exec.output!.tag } });

    const execStart = toMs(exec.startedAt);
    const execEnd = toMs(exec.finishedAt);
    expect(execStart).toBeGreaterThanOrEqual(before - 1000);
    expect(execEnd).toBeLessThanOrEqual(after + 1000);
    expect(execEnd).toBeGreaterThanOrEqual(execStart);
    for (const run of exec.nodeRuns) {
      const s = toMs(run.startedAt);
      const f = toMs(run.finishedAt);
      expect({ node: run.nodeId, timed: Number.isFinite(s) && Number.isFinite(f) && s <= f && s >= execStart - 5 && f <= execEnd + 5 }).toEqual({ node: run.nodeId, timed: true });
    }

    const events = await api.events(exec.id);
    const seqs = events.map((e) => e.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    expect(events[0]!.type).toBe('execution.started');
    expect(events.at(-1)).toMatchObject({ type: 'execution.finished', status: 'succeeded' });
    const succeededAt = (id: string): number => events.findIndex((e) => e.type === 'node.succeeded' && e.nodeId === id);
    expect(['start', 'calc', 'tag'].map(succeededAt).every((i) => i > 0)).toBe(true);
    expect(succeededAt('start')).toBeLessThan(succeededAt('calc'));
    expect(succeededAt('calc')).toBeLessThan(succeededAt('tag'));

    // each node run shows what it was given
    expect({ calc: nodeRun(exec, 'calc').input, tag: nodeRun(exec, 'tag').input }).toEqual({ calc: input, tag: { total: 10, qty: 4 } });
  });

  it('without ?wait: 202 {executionId}, then GET shows it finishing', async () => {
    const created = await api.createWorkflow(workflow(`async ${uid()}`, [manual(), node('set', 'core.set', { fields: { ok: true } })], chain('start', 'set')));
    const id = await api.startExecution(created.id, { a: 1 });
    const exec = await api.waitForStatus(id, 'succeeded');
    expect(exec).toMatchObject({ id, workflowId: created.id, version: 1, output: { set: { a: 1, ok: true } } });
  });

  it('diamond: the join gets both branches keyed by source node id', async () => {
    const created = await api.createWorkflow(loadFixture('diamond'));
    const exec = await api.run(created.id, { x: 1 });
    expect(exec.status).toBe('succeeded');
    expect(exec.output).toEqual({ join: { left: { x: 1, left: true }, right: { x: 1, right: true } } });
    expect(nodeRun(exec, 'join').input).toEqual({ left: { x: 1, left: true }, right: { x: 1, right: true } });
  });

  it('branch skip: the dead branch and everything only behind it is skipped; a join with one live input gets that payload', async () => {
    const created = await api.createWorkflow(loadFixture('branch-skip'));
    const small = await api.run(created.id, { amount: 5 });
    expect({ status: small.status, nodes: statuses(small) }).toEqual({
      status: 'succeeded',
      nodes: { start: 'succeeded', check: 'succeeded', big: 'skipped', bigNext: 'skipped', small: 'succeeded', done: 'succeeded' },
    });
    expect(nodeRun(small, 'check').output).toEqual({ false: { amount: 5 } });
    expect(small.output).toEqual({ done: { amount: 5, size: 'small' } });
    expect(nodeRun(small, 'done').input).toEqual({ amount: 5, size: 'small' });

    const big = await api.run(created.id, { amount: 500 });
    expect(statuses(big)).toEqual({ start: 'succeeded', check: 'succeeded', big: 'succeeded', bigNext: 'succeeded', small: 'skipped', done: 'succeeded' });
    expect(big.output).toEqual({ done: { amount: 500, size: 'big', confirmed: true } });
  });

  it('merge "object" keys the branches by source node id; "array" lists them (W2 below)', async () => {
    const created = await api.createWorkflow(loadFixture('merge-object'));
    const exec = await api.run(created.id, { n: 3 });
    expect({ status: exec.status, output: exec.output }).toEqual({ status: 'succeeded', output: { merged: { a: { doubled: 6 }, b: { n: 3, tag: 'n is 3' } } } });
  });

  it('switch: the first matching case gets the input, else the default port; the other ports are skipped', async () => {
    const created = await api.createWorkflow(workflow(`switch ${uid()}`, [
      manual(),
      node('route', 'core.switch', { cases: [{ port: 'low', condition: 'amount < 10' }, { port: 'high', condition: 'amount >= 100' }], default: 'mid' }),
      node('low', 'core.set', { fields: { band: 'low' } }),
      node('mid', 'core.set', { fields: { band: 'mid' } }),
      node('high', 'core.set', { fields: { band: 'high' } }),
    ], [edge('start', 'route'), edge('route', 'low', 'low'), edge('route', 'mid', 'mid'), edge('route', 'high', 'high')]));
    const bands: Record<number, unknown> = {};
    for (const amount of [5, 50, 500]) {
      const exec = await api.run(created.id, { amount });
      bands[amount] = { status: exec.status, output: exec.output, skipped: exec.nodeRuns.filter((r) => r.status === 'skipped').map((r) => r.nodeId).sort() };
    }
    expect(bands).toEqual({
      5: { status: 'succeeded', output: { low: { amount: 5, band: 'low' } }, skipped: ['high', 'mid'] },
      50: { status: 'succeeded', output: { mid: { amount: 50, band: 'mid' } }, skipped: ['high', 'low'] },
      500: { status: 'succeeded', output: { high: { amount: 500, band: 'high' } }, skipped: ['low', 'mid'] },
    });
  });

  it('a failing node fails the execution: error names the node, the rest is skipped', async () => {
    const created = await api.createWorkflow(workflow(`fail ${uid()}`, [
      manual(), node('bad', 'core.transform', { expression: '$error("boom")' }, { retry: { maxAttempts: 1 } }), node('after', 'core.set', { fields: { never: true } }),
    ], chain('start', 'bad', 'after')));
    const exec = await api.run(created.id, {});
    expect(exec.status).toBe('failed');
    expect(exec.error).toMatchObject({ nodeId: 'bad', message: expect.stringContaining('boom') });
    expect(statuses(exec)).toEqual({ start: 'succeeded', bad: 'failed', after: 'skipped' });
    expect(nodeRun(exec, 'bad').error).toMatchObject({ message: expect.stringContaining('boom') });
  });

  it('continueOnFail: the error goes out on port "error"; the main branch is skipped; the execution succeeds', async () => {
    const created = await api.createWorkflow(workflow(`continue ${uid()}`, [
      manual(),
      node('bad', 'core.transform', { expression: '$error("boom")' }, { continueOnFail: true, retry: { maxAttempts: 1 } }),
      node('handler', 'core.set', { fields: { handled: true } }),
      node('after', 'core.set', { fields: { never: true } }),
    ], [edge('start', 'bad'), edge('bad', 'handler', 'error'), edge('bad', 'after')]));
    const exec = await api.run(created.id, { a: 1 });
    expect({ status: exec.status, handler: nodeRun(exec, 'handler').status, after: nodeRun(exec, 'after').status })
      .toEqual({ status: 'succeeded', handler: 'succeeded', after: 'skipped' });
    expect(exec.output).toEqual({ handler: expect.objectContaining({ handled: true }) });
    expect(JSON.stringify(nodeRun(exec, 'handler').output)).toContain('boom');
    expect(JSON.stringify(nodeRun(exec, 'handler').input)).toContain('boom');
  });

  it('retry then success: 503, 503, 200 → attempt 3, the same Idempotency-Key every time', async () => {
    const path = `/flaky-${uid()}`;
    receiver.on(path, [{ status: 503, body: { busy: true } }, { status: 503, body: { busy: true } }, { status: 200, body: { accepted: true } }]);
    const created = await api.createWorkflow(workflow(`retry ${uid()}`, [
      manual(),
      node('call', 'core.http', { method: 'POST', url: receiver.url + path, body: { order: 7 } }, { retry: { maxAttempts: 4, backoffMs: 20, factor: 2, maxBackoffMs: 200 } }),
      node('after', 'core.set', { fields: { done: true } }),
    ], chain('start', 'call', 'after')));
    const exec = await api.run(created.id, {});
    expect({ status: exec.status, call: nodeRun(exec, 'call').status, attempt: nodeRun(exec, 'call').attempt, after: nodeRun(exec, 'after').status })
      .toEqual({ status: 'succeeded', call: 'succeeded', attempt: 3, after: 'succeeded' });

    expect(nodeRun(exec, 'call').output).toEqual({ main: expect.objectContaining({ status: 200, body: { accepted: true } }) });
    const sent = receiver.requestsTo(path);
    expect(sent.map((r) => r.method)).toEqual(['POST', 'POST', 'POST']);
    expect(sent.map((r) => r.json)).toEqual([{ order: 7 }, { order: 7 }, { order: 7 }]);
    const keys = sent.map((r) => r.idempotencyKey);
    expect(keys[0]).toEqual(expect.stringMatching(/\S{8,}/));
    expect(new Set(keys).size).toBe(1);

    const events = await api.events(exec.id);
    expect(eventsOf(events, 'node.failed', 'call').map((e) => e.attempt)).toEqual([1, 2]);
    expect(eventsOf(events, 'node.succeeded', 'call').map((e) => e.attempt)).toEqual([3]);
  });

  it('a 4xx answer is not retried: one request, the node and the execution fail', async () => {
    const path = `/reject-${uid()}`;
    receiver.on(path, { status: 422, body: { error: 'no' } });
    const created = await api.createWorkflow(workflow(`no retry ${uid()}`, [
      manual(), node('call', 'core.http', { method: 'POST', url: receiver.url + path, body: { a: 1 } }, { retry: { maxAttempts: 5, backoffMs: 10 } }),
    ], chain('start', 'call')));
    const exec = await api.run(created.id, {});
    expect({ status: exec.status, call: nodeRun(exec, 'call').status, attempt: nodeRun(exec, 'call').attempt, retryable: nodeRun(exec, 'call').error?.retryable })
      .toEqual({ status: 'failed', call: 'failed', attempt: 1, retryable: false });
    expect(receiver.count(path)).toBe(1);
  });

  it('a node over its timeoutMs fails without waiting for the slow side', async () => {
    const path = `/slow-${uid()}`;
    const held = gate();
    receiver.on(path, { status: 200, until: held.promise });
    try {
      const created = await api.createWorkflow(workflow(`timeout ${uid()}`, [
        manual(), node('call', 'core.http', { method: 'GET', url: receiver.url + path }, { timeoutMs: 300, retry: { maxAttempts: 1 } }),
      ], chain('start', 'call')));
      const started = Date.now();
      const exec = await api.run(created.id, {});
      expect({ status: exec.status, call: nodeRun(exec, 'call').status }).toEqual({ status: 'failed', call: 'failed' });
      expect(Date.now() - started).toBeLessThan(8000);
    } finally {
      held.release();
    }
  });

  it('cancel: a running execution (in a long core.wait) ends cancelled; a second cancel is refused', async () => {
    const created = await api.createWorkflow(workflow(`cancel ${uid()}`, [manual(), node('hold', 'core.wait', { ms: 120_000 }), node('after', 'core.set', { fields: { never: true } })], chain('start', 'hold', 'after')));
    const id = await api.startExecution(created.id, {});
    await api.waitForExecution(id, (e) => e.nodeRuns?.some((r) => r.nodeId === 'hold' && r.status === 'waiting'), { what: 'hold waiting' });
    const res = await api.post(`/api/v1/executions/${id}/cancel`);
    expect({ status: res.status, body: res.body }).toEqual({ status: 202, body: expect.objectContaining({ executionId: id, status: 'cancelling' }) });
    const exec = await api.waitForStatus(id, 'cancelled');
    // the node it was in is cancelled; the one behind it never ran and ends cancelled too
    expect(statuses(exec)).toEqual({ start: 'succeeded', hold: 'cancelled', after: 'cancelled' });
    const events = await api.events(id);
    expect(events.at(-1)).toMatchObject({ type: 'execution.finished', status: 'cancelled' });

    expectError(await api.post(`/api/v1/executions/${id}/cancel`), 409, 'EXECUTION_FINISHED');
    expectError(await api.post('/api/v1/executions/00000000-0000-4000-8000-000000000000/cancel'), 404, 'NOT_FOUND');
  });
});

describe('listing executions', () => {
  it('filters by workflow and status and pages with a cursor', async () => {
    const listed = await api.createWorkflow(workflow(`list ${uid()}`, [manual(), node('set', 'core.set', { fields: { ok: true } })], chain('start', 'set')));
    const failing = await api.createWorkflow(workflow(`list-fail ${uid()}`, [manual(), node('bad', 'core.transform', { expression: '$error("no")' }, { retry: { maxAttempts: 1 } })], chain('start', 'bad')));
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await api.run(listed.id, { i })).id);
    expect((await api.run(failing.id, {})).status).toBe('failed');

    const seen: string[] = [];
    let cursor: string | undefined;
    const pageSizes: number[] = [];
    for (let page = 0; page < 10; page++) {
      const res = await api.get(`/api/v1/executions?workflowId=${listed.id}&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(res.status).toBe(200);
      const items = listItems<Execution>(res.body);
      pageSizes.push(items.length);
      for (const e of items) {
        expect(e.workflowId).toBe(listed.id);
        seen.push(e.id);
      }
      cursor = nextCursorOf(res.body);
      if (!cursor) break;
    }
    expect(pageSizes.slice(0, 3)).toEqual([2, 2, 1]);
    expect([...seen].sort()).toEqual([...ids].sort());

    const succeeded = await api.get(`/api/v1/executions?workflowId=${listed.id}&status=succeeded&limit=50`);
    expect(listItems<Execution>(succeeded.body).map((e) => e.id).sort()).toEqual([...ids].sort());
    const none = await api.get(`/api/v1/executions?workflowId=${listed.id}&status=failed`);
    expect(listItems(none.body)).toEqual([]);
    const failed = await api.get(`/api/v1/executions?workflowId=${failing.id}&status=failed`);
    expect(listItems<Execution>(failed.body).map((e) => e.status)).toEqual(['failed']);
  });
});

describe('layout', () => {
  it('returns the same graph with a position for every node, ranks following the edges', async () => {
    const graph = loadFixture('branch-skip');
    const res = await api.post('/api/v1/workflows/layout', { nodes: graph.nodes, edges: graph.edges });
    expect(is2xx(res.status)).toBe(true);
    const nodes = res.body.nodes as Array<{ id: string; type: string; params: unknown; position: { x: number; y: number } }>;
    expect(nodes.map((n) => ({ id: n.id, type: n.type, params: n.params }))).toEqual(graph.nodes.map((n) => ({ id: n.id, type: n.type, params: n.params })));
    expect(res.body.edges).toEqual(graph.edges);
    for (const n of nodes) expect({ id: n.id, finite: Number.isFinite(n.position?.x) && Number.isFinite(n.position?.y) }).toEqual({ id: n.id, finite: true });
    const pos = new Map(nodes.map((n) => [n.id, n.position]));
    expect(new Set(nodes.map((n) => `${n.position.x},${n.position.y}`)).size).toBe(nodes.length);
    const along = (axis: 'x' | 'y'): boolean => graph.edges.every((e) => pos.get(e.to)![axis] > pos.get(e.from)![axis]);
    expect(along('x') || along('y')).toBe(true);
  });
});

describe('webhooks', () => {
  it('an inactive workflow has no webhook (404); activate turns it on, deactivate off', async () => {
    const path = `e2e/toggle-${uid()}`;
    const created = await api.createWorkflow(workflow(`hook toggle ${uid()}`, [
      node('hook', 'core.trigger.webhook', { path, method: 'POST', respond: 'lastNode', publicOutput: true }), node('set', 'core.set', { fields: { seen: true } }),
    ], chain('hook', 'set')));
    expectError(await api.post(`/hooks/${path}`, { a: 1 }), 404, 'NOT_FOUND');
    await api.activate(created.id);
    const on = await api.post(`/hooks/${path}`, { a: 1 });
    expect({ status: on.status, body: on.body }).toEqual({ status: 200, body: { a: 1, seen: true } });
    await api.deactivate(created.id);
    expectError(await api.post(`/hooks/${path}`, { a: 1 }), 404, 'NOT_FOUND');
  });

  it('respond "immediately" answers before the execution finishes; the execution gets the body', async () => {
    const path = `e2e/imm-${uid()}`;
    // the execution's last node is held by the receiver until the webhook has answered
    const heldPath = `/imm-held-${uid()}`;
    const held = gate();
    receiver.on(heldPath, { status: 200, body: {}, until: held.promise });
    const created = await api.createWorkflow(workflow(`hook immediately ${uid()}`, [
      node('hook', 'core.trigger.webhook', { path, method: 'POST', respond: 'immediately' }),
      node('set', 'core.set', { fields: { late: true } }),
      node('hold', 'core.http', { method: 'POST', url: receiver.url + heldPath, body: {} }),
    ], chain('hook', 'set', 'hold')));
    await api.activate(created.id);
    const res = await api.post(`/hooks/${path}`, { order: 42 });
    expect({ status: res.status, released: held.released }).toEqual({ status: 202, released: false });
    const list = await api.get(`/api/v1/executions?workflowId=${created.id}`);
    const items = listItems<Execution>(list.body);
    expect(items.map((e) => e.status)).toEqual(['running']);
    await receiver.waitFor((r) => r.path === heldPath, { what: 'the held last node' });
    held.release();
    const exec = await api.waitForStatus(items[0]!.id, 'succeeded');
    expect(nodeRun(exec, 'hook').output).toEqual({ main: { order: 42 } });
    expect(nodeRun(exec, 'set').output).toEqual({ main: { order: 42, late: true } });
  });

  it('W1 (respond lastNode): answers 200 with the body plus f1..f10', async () => {
    const created = await api.createWorkflow(loadFixture('w1'));
    await api.activate(created.id);
    const res = await api.post('/hooks/bench/w1', { hello: 'world' });
    const expected: Record<string, unknown> = { hello: 'world' };
    for (let i = 1; i <= 10; i++) expected[`f${i}`] = i;
    expect({ status: res.status, body: res.body }).toEqual({ status: 200, body: expected });
  });

  it('W2 (respond lastNode): 8 parallel branches of 3 core.set merged into an array', async () => {
    const created = await api.createWorkflow(loadFixture('w2'));
    await api.activate(created.id);
    const res = await api.post('/hooks/bench/w2', { n: 1 });
    expect(res.status).toBe(200);
    expect(Array.isArray(res.body)).toBe(true);
    // branch k (0..7) adds bk_1, bk_2, bk_3 = k; the order of the array is not part of the contract
    const branchOf = (item: Record<string, unknown>): number => Number(Object.keys(item).find((k) => /^b\d_1$/.test(k))?.[1] ?? -1);
    const items = [...(res.body as Array<Record<string, unknown>>)].sort((a, b) => branchOf(a) - branchOf(b));
    expect(items).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map((k) => ({ n: 1, fanout: true, [`b${k}_1`]: k, [`b${k}_2`]: k, [`b${k}_3`]: k })));
  });
});
