import { describe, expect, it } from '@jest/globals';
import { applyOps, checkOps, InvalidOpError, opsBetween, rebase, type OpsDefinition, type WorkflowOp } from './workflow-ops.js';

const base: OpsDefinition = {
  name: 'wf',
  nodes: [
    { id: 'start', type: 'core.trigger.manual', params: {} },
    { id: 'a', type: 'core.transform', params: { expression: '=1', label: 'x' }, position: { x: 0, y: 0 } },
    { id: 'b', type: 'core.transform', params: { expression: '=2' } },
  ],
  edges: [{ from: 'start', to: 'a' }, { from: 'a', to: 'b' }],
};

describe('checkOps', () => {
  it('names every malformed op and field', () => {
    expect(checkOps('x')).toEqual(['ops must be an array']);
    expect(checkOps([])).toEqual(['ops must not be empty']);
    const problems = checkOps([{ op: 'explode' }, { op: 'moveNode', id: 'a', position: { x: 'no' } }, { op: 'setParams', id: 'a b', params: {} }, { op: 'connect', edge: { from: 'a' } }, { op: 'rename', name: 'ok', extra: 1 }]);
    expect(problems).toEqual([
      expect.stringContaining('ops[0].op must be one of'),
      'ops[1].position must be {x, y} numbers',
      'ops[2].id must be a node id (letters, digits, _ and -)',
      'ops[2].params must be a non-empty object',
      'ops[3].edge.to must be a node id',
      'ops[4].extra is not a field of rename',
    ]);
    expect(checkOps([{ op: 'addNode', node: { id: 'n', type: 'core.noop' } }, { op: 'rename', name: 'x' }])).toEqual([]);
  });
});

describe('applyOps', () => {
  it('applies every kind of op without touching the input', () => {
    const ops: WorkflowOp[] = [
      { op: 'addNode', node: { id: 'c', type: 'core.noop', position: { x: 5, y: 6 } } },
      { op: 'connect', edge: { from: 'b', to: 'c' } },
      { op: 'setParams', id: 'a', params: { expression: '=3', label: null } },
      { op: 'moveNode', id: 'a', position: { x: 10, y: 20 } },
      { op: 'setOptions', id: 'b', options: { timeoutMs: 500 } },
      { op: 'disconnect', edge: { from: 'start', to: 'a' } },
      { op: 'rename', name: 'renamed' },
      { op: 'removeNode', id: 'b' },
    ];
    const out = applyOps(base, ops);
    expect(out.name).toBe('renamed');
    expect(out.nodes.map((n) => n.id)).toEqual(['start', 'a', 'c']);
    expect(out.nodes[1]).toEqual({ id: 'a', type: 'core.transform', params: { expression: '=3' }, position: { x: 10, y: 20 } });
    expect(out.edges).toEqual([]); // start→a disconnected, a→b and b→c gone with b
    expect(base.nodes).toHaveLength(3);
    expect(base.nodes[1]!.params).toEqual({ expression: '=1', label: 'x' });
  });

  it('refuses ops that cannot apply, naming the op', () => {
    expect(() => applyOps(base, [{ op: 'addNode', node: { id: 'a', type: 'x.y' } }])).toThrow(new InvalidOpError(0, "node id 'a' is already taken"));
    expect(() => applyOps(base, [{ op: 'rename', name: 'n' }, { op: 'connect', edge: { from: 'a', to: 'zz' } }])).toThrow("ops[1]: node 'zz' does not exist");
  });

  it('opsBetween reproduces the target version', () => {
    const target = applyOps(base, [
      { op: 'addNode', node: { id: 'c', type: 'core.noop' } },
      { op: 'connect', edge: { from: 'a', to: 'c', fromPort: 'main' } },
      { op: 'setParams', id: 'b', params: { expression: '=9' } },
      { op: 'removeNode', id: 'start' },
      { op: 'rename', name: 'n2' },
    ]);
    expect(applyOps(base, opsBetween(base, target))).toEqual(target);
  });
});

describe('rebase', () => {
  it('merges patches that touch different nodes, params and edges', () => {
    const theirs = applyOps(base, [{ op: 'setParams', id: 'a', params: { label: 'theirs' } }, { op: 'moveNode', id: 'b', position: { x: 1, y: 1 } }, { op: 'addNode', node: { id: 't', type: 'core.noop' } }]);
    const mine: WorkflowOp[] = [{ op: 'setParams', id: 'a', params: { expression: '=mine' } }, { op: 'addNode', node: { id: 'm', type: 'core.noop' } }, { op: 'connect', edge: { from: 'b', to: 'm' } }];
    const r = rebase(base, theirs, mine);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.ops).toEqual(mine);
    const a = r.definition.nodes.find((n) => n.id === 'a');
    expect(a?.params).toEqual({ expression: '=mine', label: 'theirs' });
    expect(r.definition.nodes.map((n) => n.id)).toEqual(['start', 'a', 'b', 't', 'm']);
  });

  it('refuses the same param of the same node, an edge to a removed node, a double rename', () => {
    const theirs = applyOps(base, [{ op: 'setParams', id: 'a', params: { expression: '=theirs' } }, { op: 'removeNode', id: 'b' }, { op: 'rename', name: 'theirs' }]);
    const mine: WorkflowOp[] = [
      { op: 'setParams', id: 'a', params: { expression: '=mine' } },
      { op: 'setParams', id: 'a', params: { label: 'fine' } },
      { op: 'connect', edge: { from: 'start', to: 'b' } },
      { op: 'rename', name: 'mine' },
    ];
    const r = rebase(base, theirs, mine);
    expect(r).toEqual({
      ok: false,
      conflicts: [
        { index: 0, op: mine[0], reason: "param 'expression' of node 'a' was changed by someone else since your version" },
        { index: 2, op: mine[2], reason: "edge start:main->b:main goes to node 'b', removed since your version" },
        { index: 3, op: mine[3], reason: "the workflow was renamed to 'theirs' since your version" },
      ],
    });
  });

  it('refuses removing a node someone edited or connected, and drops what was already done', () => {
    const theirs = applyOps(base, [{ op: 'setParams', id: 'b', params: { expression: '=x' } }, { op: 'disconnect', edge: { from: 'start', to: 'a' } }]);
    expect(rebase(base, theirs, [{ op: 'removeNode', id: 'b' }])).toMatchObject({ ok: false, conflicts: [{ index: 0, reason: expect.stringContaining('had params changed') }] });
    const r = rebase(base, theirs, [{ op: 'disconnect', edge: { from: 'start', to: 'a' } }, { op: 'moveNode', id: 'a', position: { x: 3, y: 3 } }]);
    expect(r).toMatchObject({ ok: true, ops: [{ op: 'moveNode' }] });
  });

  it('ops on a node the same patch adds never conflict with the base', () => {
    const theirs = applyOps(base, [{ op: 'removeNode', id: 'b' }]);
    const r = rebase(base, theirs, [{ op: 'addNode', node: { id: 'n', type: 'core.noop' } }, { op: 'setParams', id: 'n', params: { k: 1 } }, { op: 'connect', edge: { from: 'a', to: 'n' } }]);
    expect(r.ok).toBe(true);
  });
});
