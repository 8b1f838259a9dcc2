import { describe, expect, it } from '@jest/globals';
import { testCatalog } from '../spec-support/harness.js';
import { validateWorkflow } from './validate-workflow.js';

const catalog = testCatalog(new Map());
const validate = (w: unknown) => validateWorkflow(w, catalog, { maxNodes: 100 });
const problems = (w: unknown) => {
  const r = validate(w);
  if (r.ok) throw new Error('expected problems');
  return r.problems;
};

describe('validateWorkflow', () => {
  it('accepts a valid graph and orders it topologically', () => {
    const r = validate({
      name: 'ok',
      nodes: [{ id: 'c', type: 'test.set' }, { id: 'a', type: 'test.trigger' }, { id: 'b', type: 'test.if', params: { condition: 'x > 1' } }],
      edges: [{ from: 'a', to: 'b' }, { from: 'b', fromPort: 'true', to: 'c' }],
    });
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.graph.order.map((i) => r.graph.nodes[i].id)).toEqual(['a', 'b', 'c']);
  });

  it('reports every problem at once, each with a JSON path and the node id', () => {
    const p = problems({
      name: 'bad',
      nodes: [
        { id: 't', type: 'test.trigger' },
        { id: 'dup', type: 'test.set' },
        { id: 'dup', type: 'test.set' },
        { id: 'ghost', type: 'nope.missing' },
        { id: 'flaky', type: 'test.flaky', params: { failTimes: 'many' } },
        { id: 'cond', type: 'test.if', params: { condition: 'x >' } },
        { id: 'expr', type: 'test.set', params: { fields: { a: '=(((' } } },
      ],
      edges: [
        { from: 't', to: 'flaky' },
        { from: 't', to: 'nowhere' },
        { from: 't', fromPort: 'sideways', to: 'cond' },
        { from: 'flaky', to: 't' },
        { from: 'cond', fromPort: 'true', to: 'expr', toPort: 'other' },
      ],
    });
    const byCode = (code: string) => p.filter((x) => x.code === code);
    expect(byCode('DUPLICATE_NODE_ID')).toEqual([expect.objectContaining({ path: '$.nodes[2].id', nodeId: 'dup' })]);
    expect(byCode('UNKNOWN_NODE_TYPE')).toEqual([expect.objectContaining({ path: '$.nodes[3].type', nodeId: 'ghost' })]);
    expect(byCode('INVALID_PARAMS')).toEqual([expect.objectContaining({ path: '$.nodes[4].params.failTimes', nodeId: 'flaky' })]);
    expect(byCode('INVALID_EXPRESSION')).toEqual([expect.objectContaining({ path: '$.nodes[6].params.fields.a', nodeId: 'expr' })]);
    expect(byCode('DANGLING_EDGE')).toEqual([expect.objectContaining({ path: '$.edges[1].to' })]);
    const ports = byCode('UNKNOWN_PORT').map((x) => x.path).sort();
    expect(ports).toEqual(['$.edges[2].fromPort', '$.edges[3].toPort', '$.edges[4].toPort']);
  });

  it('names the nodes of each cycle', () => {
    const p = problems({
      name: 'cyclic',
      nodes: [{ id: 't', type: 'test.trigger' }, { id: 'a', type: 'test.set' }, { id: 'b', type: 'test.set' }, { id: 'c', type: 'test.set' }, { id: 'self', type: 'test.set' }],
      edges: [{ from: 't', to: 'a' }, { from: 'a', to: 'b' }, { from: 'b', to: 'c' }, { from: 'c', to: 'a' }, { from: 't', to: 'self' }, { from: 'self', to: 'self' }],
    });
    const cycles = p.filter((x) => x.code === 'CYCLE');
    expect(cycles).toHaveLength(2);
    expect(cycles.map((c) => [...c.nodes!].sort())).toEqual(expect.arrayContaining([['a', 'b', 'c'], ['self']]));
    expect(cycles.find((c) => c.nodes!.length === 3)!.message).toMatch(/a → b → c → a|b → c → a → b|c → a → b → c/);
  });

  it('rejects wrong shapes with a path instead of throwing', () => {
    for (const bad of [null, 42, 'x', [], { nodes: {}, edges: 'no' }, { name: 'x', nodes: [null, 5, { id: 3 }], edges: [7, { from: 1 }] }]) {
      const p = problems(bad);
      expect(p.length).toBeGreaterThan(0);
      for (const x of p) expect(x.path.startsWith('$')).toBe(true);
    }
    expect(problems({ name: 'x', nodes: [], edges: [] }).map((x) => x.code)).toContain('NO_START_NODE');
    expect(problems({ name: 'x', nodes: [{ id: 't', type: 'test.trigger', retry: { maxAttempts: 0 }, timeoutMs: -1, bogus: 1 }], edges: [] }).map((x) => x.path).sort()).toEqual(['$.nodes[0].bogus', '$.nodes[0].retry.maxAttempts', '$.nodes[0].timeoutMs']);
  });

  it('refuses graphs above the size limit before doing any work', () => {
    const nodes = Array.from({ length: 101 }, (_, i) => ({ id: `n${i}`, type: 'test.set' }));
    expect(problems({ name: 'big', nodes, edges: [] })).toEqual([expect.objectContaining({ code: 'TOO_LARGE', path: '$.nodes' })]);
  });

  it('reports a bad port on an edge together with the invalid params of its node (every problem at once)', () => {
    const wf = { name: 'both', nodes: [{ id: 't', type: 'test.trigger' }, { id: 'f', type: 'test.flaky', params: { failTimes: 'many' } }, { id: 'h', type: 'test.set' }], edges: [{ from: 't', to: 'f' }, { from: 'f', fromPort: 'bogus', to: 'h' }] };
    expect(problems(wf)).toEqual([
      expect.objectContaining({ code: 'INVALID_PARAMS', path: '$.nodes[1].params.failTimes', nodeId: 'f' }),
      expect.objectContaining({ code: 'UNKNOWN_PORT', path: '$.edges[1].fromPort', nodeId: 'f' }),
    ]);
  });

  it('a value of the wrong type gets the type message only, not the range messages too', () => {
    const wf = { name: 'type', nodes: [{ id: 't', type: 'test.trigger' }, { id: 'f', type: 'test.flaky', params: { failTimes: 'soon' } }], edges: [{ from: 't', to: 'f' }] };
    expect(problems(wf)).toEqual([expect.objectContaining({ path: '$.nodes[1].params.failTimes', message: 'failTimes must be an integer number' })]);
    const negative = { ...wf, nodes: [wf.nodes[0], { id: 'f', type: 'test.flaky', params: { failTimes: -1 } }] };
    expect(problems(negative)).toEqual([expect.objectContaining({ message: 'failTimes must not be less than 0' })]);
  });

  it('onError takes stop | continue | errorPort; continueOnFail: true is errorPort and may not contradict it', () => {
    const wf = (extra: Record<string, unknown>) => ({ name: 'e', nodes: [{ id: 't', type: 'test.trigger' }, { id: 'f', type: 'test.flaky', params: { failTimes: 1 }, ...extra }], edges: [{ from: 't', to: 'f' }] });
    expect(problems(wf({ onError: 'ignore' }))).toEqual([expect.objectContaining({ code: 'INVALID_SHAPE', path: '$.nodes[1].onError' })]);
    expect(problems(wf({ onError: 'stop', continueOnFail: true }))).toEqual([expect.objectContaining({ code: 'INVALID_SHAPE', path: '$.nodes[1].continueOnFail' })]);
    for (const onError of ['stop', 'continue', 'errorPort']) expect(validate(wf({ onError })).ok).toBe(true);
    const compiled = validate(wf({ continueOnFail: true }));
    expect(compiled.ok && compiled.graph.nodes[1].onError).toBe('errorPort');
  });

  it('warns (without refusing) when a node sends failures to an error port nobody listens to', () => {
    const r = validate({ name: 'w', nodes: [{ id: 't', type: 'test.trigger' }, { id: 'f', type: 'test.flaky', params: { failTimes: 1 }, onError: 'errorPort' }], edges: [{ from: 't', to: 'f' }] });
    expect(r.ok).toBe(true);
    expect(r.ok && r.graph.warnings).toEqual([expect.objectContaining({ code: 'UNUSED_ERROR_PORT', nodeId: 'f', path: '$.nodes[1].onError' })]);
    const listened = validate({ name: 'w', nodes: [{ id: 't', type: 'test.trigger' }, { id: 'f', type: 'test.flaky', params: { failTimes: 1 }, onError: 'errorPort' }, { id: 'h', type: 'test.set' }], edges: [{ from: 't', to: 'f' }, { from: 'f', fromPort: 'error', to: 'h' }] });
    expect(listened.ok && listened.graph.warnings).toEqual([]);
  });

  it('the error port exists only with continueOnFail', () => {
    const base = { name: 'e', nodes: [{ id: 't', type: 'test.trigger' }, { id: 'f', type: 'test.flaky', params: { failTimes: 1 } }, { id: 'h', type: 'test.set' }], edges: [{ from: 't', to: 'f' }, { from: 'f', fromPort: 'error', to: 'h' }] };
    expect(problems(base)).toEqual([expect.objectContaining({ code: 'UNKNOWN_PORT', path: '$.edges[1].fromPort', nodeId: 'f' })]);
    base.nodes[1] = { ...base.nodes[1], continueOnFail: true } as never;
    expect(validate(base).ok).toBe(true);
  });
});
