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

  it('the error port exists only with continueOnFail', () => {
    const base = { name: 'e', nodes: [{ id: 't', type: 'test.trigger' }, { id: 'f', type: 'test.flaky', params: { failTimes: 1 } }, { id: 'h', type: 'test.set' }], edges: [{ from: 't', to: 'f' }, { from: 'f', fromPort: 'error', to: 'h' }] };
    expect(problems(base)).toEqual([expect.objectContaining({ code: 'UNKNOWN_PORT', path: '$.edges[1].fromPort', nodeId: 'f' })]);
    base.nodes[1] = { ...base.nodes[1], continueOnFail: true } as never;
    expect(validate(base).ok).toBe(true);
  });
});
