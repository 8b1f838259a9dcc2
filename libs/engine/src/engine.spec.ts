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
