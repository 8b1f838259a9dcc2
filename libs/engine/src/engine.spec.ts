import { describe, expect, it } from '@jest/globals';
import { harness, ManualClock } from './spec-support/harness.js';
import type { WorkflowDefinition } from './workflow/workflow.types.js';

const chain = (...types: Array<[string, string, Record<string, unknown>?, Record<string, unknown>?]>): WorkflowDefinition => ({
  name: 'chain',
  nodes: types.map(([id, type, params, extra]) => ({ id, type, params: params ?? {}, ...(extra ?? {}) })),
  edges: types.slice(1).map(([id], i) => ({ from: types[i][0], to: id })),
});

describe('Engine: execution semantics (ARCHITECTURE §4)', () => {
  it('runs a chain in order, each node getting its predecessor output; output = sink outputs by id', async () => {
    const h = harness();
    const v = await h.run(chain(['t', 'test.trigger'], ['a', 'test.set', { fields: { a: 1 } }], ['b', 'test.set', { fields: { b: 2 } }]), { x: 0 });
    expect(v.status).toBe('succeeded');
    expect(h.log).toEqual(['t', 'a', 'b']);
    expect(v.output).toEqual({ b: { x: 0, a: 1, b: 2 } });
    expect(h.node(v, 'a')).toMatchObject({ status: 'succeeded', attempt: 1, output: { main: { x: 0, a: 1 } } });
    expect(typeof h.node(v, 'a').startedAt).toBe('number');
    expect(h.node(v, 'a').finishedAt).toBeGreaterThanOrEqual(h.node(v, 'a').startedAt!);
  });

  it('diamond: the join runs once, after both branches, with an input keyed by source node id', async () => {
    const h = harness();
    const v = await h.run({
      name: 'diamond',
      nodes: [
        { id: 't', type: 'test.trigger' },
        { id: 'l', type: 'test.set', params: { fields: { side: 'l' } } },
        { id: 'r', type: 'test.set', params: { fields: { side: 'r' } } },
        { id: 'j', type: 'test.merge' },
      ],
      edges: [{ from: 't', to: 'l' }, { from: 't', to: 'r' }, { from: 'l', to: 'j' }, { from: 'r', to: 'j' }],
    });
    expect(v.status).toBe('succeeded');
    expect(h.calls.get('j')).toBe(1);
    expect(v.output).toEqual({ j: { l: { side: 'l' }, r: { side: 'r' } } });
    expect(h.log.indexOf('j')).toBeGreaterThan(Math.max(h.log.indexOf('l'), h.log.indexOf('r')));
  });
});

describe('Engine: branches, skips and joins', () => {
  const branching = (cond: string): WorkflowDefinition => ({
    name: 'branch',
    nodes: [
      { id: 't', type: 'test.trigger' },
      { id: 'check', type: 'test.if', params: { condition: cond } },
      { id: 'yes', type: 'test.set', params: { fields: { branch: 'yes' } } },
      { id: 'yes2', type: 'test.set', params: { fields: { after: true } } },
      { id: 'no', type: 'test.set', params: { fields: { branch: 'no' } } },
      { id: 'join', type: 'test.merge' },
    ],
    edges: [
      { from: 't', to: 'check' },
      { from: 'check', fromPort: 'true', to: 'yes' },
      { from: 'yes', to: 'yes2' },
      { from: 'check', fromPort: 'false', to: 'no' },
      { from: 'yes2', to: 'join' },
      { from: 'no', to: 'join' },
    ],
  });

  it('skips the branch that did not emit, propagates the skip, and a join with one live input gets that payload as is', async () => {
    const h = harness();
    const v = await h.run(branching('amount > 100'), { amount: 5 });
    expect(v.status).toBe('succeeded');
    expect(h.node(v, 'yes').status).toBe('skipped');
    expect(h.node(v, 'yes2').status).toBe('skipped');
    expect(h.calls.get('yes')).toBeUndefined();
    expect(h.node(v, 'no').status).toBe('succeeded');
    expect(v.output).toEqual({ join: { amount: 5, branch: 'no' } });
  });

  it('takes the other branch when the condition holds', async () => {
    const h = harness();
    const v = await h.run(branching('amount > 100'), { amount: 500 });
    expect(h.node(v, 'no').status).toBe('skipped');
    expect(v.output).toEqual({ join: { amount: 500, branch: 'yes', after: true } });
  });

  it('a node whose every input is skipped is skipped, and a skipped sink is not in the output', async () => {
    const h = harness();
    const def = branching('false');
    def.edges = def.edges.filter((e) => e.from !== 'no' && e.to !== 'no');
    def.nodes = def.nodes.filter((n) => n.id !== 'no');
    const v = await h.run(def);
    expect(h.node(v, 'join').status).toBe('skipped');
    expect(v.status).toBe('succeeded');
    expect(v.output).toEqual({});
  });

  it('skips other triggers than the one that fired', async () => {
    const h = harness();
    h.workflows.put('two-triggers', 1, {
      name: 'two triggers',
      nodes: [{ id: 'a', type: 'test.trigger' }, { id: 'b', type: 'test.trigger' }, { id: 'x', type: 'test.set', params: { fields: { x: 1 } } }],
      edges: [{ from: 'a', to: 'x' }, { from: 'b', to: 'x' }],
    });
    const { executionId } = await h.engine.start({ workflowId: 'two-triggers', version: 1, triggerNodeId: 'b', input: { via: 'b' } });
    const v = (await h.engine.whenFinished(executionId, 5000))!;
    expect(h.node(v, 'a').status).toBe('skipped');
    expect(v.output).toEqual({ x: { via: 'b', x: 1 } });
  });
});

describe('Engine: failures, retries and timeouts', () => {
  it('retries a transient failure with backoff and succeeds; the idempotency key is the same for every attempt', async () => {
    const clock = new ManualClock();
    const h = harness({ clock });
    h.workflows.put('w', 1, chain(['t', 'test.trigger'], ['f', 'test.flaky', { failTimes: 2 }, { retry: { maxAttempts: 3, backoffMs: 1000, factor: 2 } }]));
    const { executionId } = await h.engine.start({ workflowId: 'w', version: 1 });
    const done = h.engine.whenFinished(executionId, 60_000);
    await clock.advance(0);
    expect(h.calls.get('f')).toBe(1);
    expect(h.engine.view(executionId)!.nodeRuns[1]).toMatchObject({ status: 'pending', attempt: 1, error: { code: 'FLAKY', retryable: true } });
    const firstRetryAt = h.engine.view(executionId)!.nodeRuns[1].retryAt!;
    // equal jitter: between half and all of backoffMs
    expect(firstRetryAt - clock.now()).toBeGreaterThanOrEqual(500);
    expect(firstRetryAt - clock.now()).toBeLessThanOrEqual(1000);
    await clock.advance(1000);
    expect(h.calls.get('f')).toBe(2);
    await clock.advance(2000);
    const v = (await done)!;
    expect(v.status).toBe('succeeded');
    expect(h.node(v, 'f')).toMatchObject({ status: 'succeeded', attempt: 3 });
    expect(v.output).toEqual({ f: { input: {}, attempt: 3, key: `${executionId}:f` } });
    const events = await h.store.events(executionId);
    expect(events.filter((e) => e.type === 'node.failed')).toHaveLength(2);
    expect(events.filter((e) => e.type === 'node.started').map((e) => (e as { attempt: number }).attempt)).toEqual([1, 2, 3]);
  });

  it('fails the execution when retries are exhausted, naming the node and the last error', async () => {
    const h = harness();
    const v = await h.run(chain(['t', 'test.trigger'], ['f', 'test.flaky', { failTimes: 5 }, { retry: { maxAttempts: 2, backoffMs: 1 } }], ['after', 'test.set']));
    expect(v.status).toBe('failed');
    expect(h.calls.get('f')).toBe(2);
    expect(v.error).toMatchObject({ nodeId: 'f', code: 'FLAKY', message: 'transient failure 2' });
    expect(h.node(v, 'after').status).toBe('skipped');
  });

  it('does not retry a NodeError', async () => {
    const h = harness();
    const v = await h.run(chain(['t', 'test.trigger'], ['f', 'test.flaky', { failTimes: 5, mode: 'fatal' }, { retry: { maxAttempts: 5, backoffMs: 1 } }]));
    expect(v.status).toBe('failed');
    expect(h.calls.get('f')).toBe(1);
    expect(v.error).toMatchObject({ code: 'FATAL', retryable: false, nodeId: 'f' });
  });

  it('retries unknown errors (a plugin that did not classify its failure)', async () => {
    const h = harness();
    const v = await h.run(chain(['t', 'test.trigger'], ['f', 'test.flaky', { failTimes: 1, mode: 'plain' }, { retry: { maxAttempts: 2, backoffMs: 1 } }]));
    expect(v.status).toBe('succeeded');
    expect(h.calls.get('f')).toBe(2);
  });

  it('continueOnFail sends the error out on the error port and the execution goes on', async () => {
    const h = harness();
    const v = await h.run({
      name: 'continue',
      nodes: [
        { id: 't', type: 'test.trigger' },
        { id: 'f', type: 'test.flaky', params: { failTimes: 9, mode: 'fatal' }, continueOnFail: true },
        { id: 'ok', type: 'test.set', params: { fields: { fine: true } } },
        { id: 'handler', type: 'test.set', params: { fields: { handled: true } } },
      ],
      edges: [{ from: 't', to: 'f' }, { from: 'f', to: 'ok' }, { from: 'f', fromPort: 'error', to: 'handler' }],
    });
    expect(v.status).toBe('succeeded');
    expect(h.node(v, 'f').status).toBe('failed');
    expect(h.node(v, 'ok').status).toBe('skipped');
    expect(v.output).toEqual({ handler: { message: 'fatal failure 1', code: 'FATAL', retryable: false, nodeId: 'f', handled: true } });
  });

  it('onError "continue" passes {error} on the main port; the execution succeeds and names the failed node', async () => {
    const h = harness();
    const v = await h.run({
      name: 'continue-main',
      nodes: [
        { id: 't', type: 'test.trigger' },
        { id: 'f', type: 'test.flaky', params: { failTimes: 9, mode: 'fatal' }, onError: 'continue' },
        { id: 'next', type: 'test.set', params: { fields: { after: true } } },
      ],
      edges: [{ from: 't', to: 'f' }, { from: 'f', to: 'next' }],
    });
    expect(v.status).toBe('succeeded');
    expect(h.node(v, 'f').status).toBe('failed');
    expect(v.failedNodes).toEqual(['f']);
    expect(v.output).toEqual({ next: { error: { message: 'fatal failure 1', code: 'FATAL', retryable: false, nodeId: 'f' }, after: true } });
  });

  it('onError "errorPort" equals continueOnFail: true; without an edge on the error port the failure is still reported in failedNodes', async () => {
    const h = harness();
    const v = await h.run({
      name: 'swallowed',
      nodes: [
        { id: 't', type: 'test.trigger' },
        { id: 'f', type: 'test.flaky', params: { failTimes: 9, mode: 'fatal' }, onError: 'errorPort' },
        { id: 'ok', type: 'test.set' },
      ],
      edges: [{ from: 't', to: 'f' }, { from: 'f', to: 'ok' }],
    });
    expect(v.status).toBe('succeeded');
    expect(h.node(v, 'ok').status).toBe('skipped');
    expect(v.failedNodes).toEqual(['f']);
  });

  it('onError "stop" (the default) fails the execution', async () => {
    const h = harness();
    const v = await h.run(chain(['t', 'test.trigger'], ['f', 'test.flaky', { failTimes: 9, mode: 'fatal' }, { onError: 'stop' }], ['ok', 'test.set']));
    expect(v.status).toBe('failed');
    expect(v.failedNodes).toEqual(['f']);
    expect(h.node(v, 'ok').status).toBe('skipped');
  });

  it('times out a node that runs too long (retryable: the retry policy applies)', async () => {
    const h = harness();
    const v = await h.run(chain(['t', 'test.trigger'], ['slow', 'test.hang', {}, { timeoutMs: 30, retry: { maxAttempts: 2, backoffMs: 1 } }]));
    expect(v.status).toBe('failed');
    expect(h.calls.get('slow')).toBe(2);
    expect(v.error).toMatchObject({ code: 'NODE_TIMEOUT', nodeId: 'slow' });
  });

  it('an expression error fails the node (not retried) with the param path', async () => {
    const h = harness();
    const v = await h.run(chain(['t', 'test.trigger'], ['s', 'test.set', { fields: { x: '=$error("boom")' } }, { retry: { maxAttempts: 3, backoffMs: 1 } }]));
    expect(v.status).toBe('failed');
    expect(v.error).toMatchObject({ code: 'EXPRESSION_ERROR', retryable: false, nodeId: 's' });
    expect(v.error!.message).toContain('$.nodes[1].params.fields.x');
    expect(v.error!.message).toContain('boom');
  });

  it('a runaway expression is stopped by the time bound', async () => {
    const h = harness({ options: { expressionTimeoutMs: 50 } });
    const v = await h.run(chain(['t', 'test.trigger'], ['s', 'test.set', { fields: { x: '=($f := function($n){ $n = 0 ? 0 : $f($n - 1) + $f($n - 1) }; $f(40))' } }]));
    expect(v.status).toBe('failed');
    expect(v.error!.message).toMatch(/longer than 50 ms|deeper than/);
  });

  it('expressions see the input, $trigger, $nodes and $execution', async () => {
    const h = harness();
    const v = await h.run(
      chain(
        ['t', 'test.trigger'],
        ['a', 'test.set', { fields: { doubled: '=amount * 2' } }],
        ['b', 'test.set', { fields: { fromTrigger: '=$trigger.amount', fromA: '=$nodes.a.doubled', exec: '=$execution.workflowId' } }],
      ),
      { amount: 21 },
    );
    expect(v.output).toEqual({ b: { amount: 21, doubled: 42, fromTrigger: 21, fromA: 42, exec: v.workflowId } });
  });

  it('$execution.startedAt is an ISO 8601 string, like every time in the API', async () => {
    const h = harness();
    const v = await h.run(chain(['t', 'test.trigger'], ['a', 'test.set', { fields: { at: '=$execution.startedAt' } }]));
    expect((v.output!.a as { at: string }).at).toBe(new Date(v.startedAt).toISOString());
  });

  it("an evaluation error in a node's own expression (ctx.evaluate) names its param path", async () => {
    const h = harness();
    const v = await h.run(chain(['t', 'test.trigger'], ['x', 'test.set'], ['cond', 'test.if', { condition: 'name + 1' }]), { name: 'text' });
    expect(v.status).toBe('failed');
    expect(v.error).toMatchObject({ code: 'EXPRESSION_ERROR', nodeId: 'cond' });
    expect(v.error!.message).toContain('$.nodes[2].params.condition');
  });
});

describe('Engine: cancellation and concurrency', () => {
  it('cancels a running execution: the running node is aborted, the rest is cancelled', async () => {
    const h = harness();
    h.workflows.put('c', 1, chain(['t', 'test.trigger'], ['slow', 'test.hang'], ['after', 'test.set']));
    const { executionId } = await h.engine.start({ workflowId: 'c', version: 1 });
    const done = h.engine.whenFinished(executionId, 5000);
    await new Promise((r) => setImmediate(r));
    expect(h.engine.view(executionId)!.nodeRuns[1].status).toBe('running');
    await h.engine.cancel(executionId, 'user asked');
    const v = (await done)!;
    expect(v.status).toBe('cancelled');
    expect(h.node(v, 'slow').status).toBe('cancelled');
    expect(h.node(v, 'after').status).toBe('cancelled');
    await expect(h.engine.cancel(executionId)).rejects.toMatchObject({ code: 'EXECUTION_FINISHED' });
    await expect(h.engine.cancel('nope')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('bounds the number of nodes running at once in one execution', async () => {
    const h = harness({ options: { maxConcurrentNodesPerExecution: 3 } });
    let running = 0;
    let peak = 0;
    const orig = h.engine.deps.transport.run.bind(h.engine.deps.transport);
    h.engine.deps.transport.run = async (job, env) => {
      running++;
      peak = Math.max(peak, running);
      try {
        return await orig(job, env);
      } finally {
        running--;
      }
    };
    const nodes = [{ id: 't', type: 'test.trigger' }, ...Array.from({ length: 10 }, (_, i) => ({ id: `d${i}`, type: 'test.delay', params: { ms: 5 } }))];
    const v = await h.run({ name: 'fan', nodes, edges: nodes.slice(1).map((n) => ({ from: 't', to: n.id })) });
    expect(v.status).toBe('succeeded');
    expect(Object.keys(v.output!)).toHaveLength(10);
    expect(peak).toBe(3);
  });

  it('bounds the number of nodes running at once across executions', async () => {
    const h = harness({ options: { maxConcurrentNodes: 2 } });
    let running = 0;
    let peak = 0;
    const orig = h.engine.deps.transport.run.bind(h.engine.deps.transport);
    h.engine.deps.transport.run = async (job, env) => {
      running++;
      peak = Math.max(peak, running);
      try {
        return await orig(job, env);
      } finally {
        running--;
      }
    };
    const def = chain(['t', 'test.trigger'], ['d', 'test.delay', { ms: 5 }]);
    const views = await Promise.all(Array.from({ length: 6 }, () => h.run(def)));
    expect(views.every((v) => v.status === 'succeeded')).toBe(true);
    expect(peak).toBe(2);
  });
});

describe('Engine: per-execution output quota (issue 17)', () => {
  const pad = 'x'.repeat(400);

  it('fails the node whose output would take the execution past maxExecutionOutputBytes, not retried, naming the sizes', async () => {
    const h = harness({ options: { maxExecutionOutputBytes: 1000 } });
    const v = await h.run(chain(['t', 'test.trigger'], ['a', 'test.set', { fields: { a: pad } }], ['b', 'test.set', { fields: { b: pad } }, { retry: { maxAttempts: 3, backoffMs: 1 } }], ['c', 'test.set', { fields: { c: 1 } }]), { x: 0 });
    expect(v.status).toBe('failed');
    expect(h.node(v, 'a').status).toBe('succeeded');
    // each node is well under any per-node cap; together they are not
    expect(h.node(v, 'b')).toMatchObject({ status: 'failed', attempt: 1, error: { code: 'EXECUTION_OUTPUT_QUOTA', retryable: false, details: { limit: 1000, bytes: expect.any(Number), executionBytes: expect.any(Number) } } });
    expect(h.node(v, 'b').error!.message).toMatch(/an execution may store at most 1000 \(engine\.maxExecutionOutputBytes\)/);
    expect(h.node(v, 'b').output).toBeUndefined();
    expect(h.calls.get('c')).toBeUndefined();
  });

  it('names the exact bytes stored so far when the quota is reached after outputs counted by their upper bounds', async () => {
    const h = harness({ options: { maxExecutionOutputBytes: 3000 } });
    const v = await h.run(chain(['t', 'test.trigger'], ['a', 'test.set', { fields: { a: pad } }], ['b', 'test.set', { fields: { b: pad } }], ['c', 'test.set', { fields: { c: pad } }], ['d', 'test.set', { fields: { d: pad } }]), { x: 0 });
    expect(v.status).toBe('failed');
    const stored = ['t', 'a', 'b', 'c'].reduce((sum, id) => sum + Buffer.byteLength(JSON.stringify(h.node(v, id).output ?? {})), 0);
    expect(h.node(v, 'd')).toMatchObject({ status: 'failed', error: { code: 'EXECUTION_OUTPUT_QUOTA', details: { executionBytes: stored, limit: 3000 } } });
  });

  it('counts exact sizes: outputs whose upper bounds pass the quota but whose JSON does not are stored', async () => {
    // each output's bound (6 bytes per character) is ~2.4 KB, their JSON ~0.4 and ~0.8 KB
    const h = harness({ options: { maxExecutionOutputBytes: 1800 } });
    const v = await h.run(chain(['t', 'test.trigger'], ['a', 'test.set', { fields: { a: pad } }], ['b', 'test.set', { fields: { b: pad } }]), { x: 0 });
    expect(v.status).toBe('succeeded');
    expect(h.node(v, 'b').status).toBe('succeeded');
  });

  it('lets the same workflow through under the default quota, and 0 turns the quota off', async () => {
    const wf = chain(['t', 'test.trigger'], ['a', 'test.set', { fields: { a: pad } }], ['b', 'test.set', { fields: { b: pad } }]);
    expect((await harness().run(wf)).status).toBe('succeeded');
    expect((await harness({ options: { maxExecutionOutputBytes: 0 } }).run(wf)).status).toBe('succeeded');
  });
});
