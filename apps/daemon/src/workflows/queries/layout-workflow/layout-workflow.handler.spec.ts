import { describe, expect, it } from '@jest/globals';
import { ApiError } from '../../../common/api-error.js';
import { layoutGraph, LayoutWorkflowHandler } from './layout-workflow.handler.js';
import { LayoutWorkflowQuery } from './layout-workflow.query.js';

describe('layoutGraph', () => {
  const diamond = {
    name: 'diamond',
    nodes: [
      { id: 'a', type: 'core.trigger.manual', params: {} },
      { id: 'b', type: 'core.noop' },
      { id: 'c', type: 'core.noop' },
      { id: 'd', type: 'core.merge', params: { mode: 'object' } },
    ],
    edges: [
      { from: 'a', to: 'b' },
      { from: 'a', to: 'c' },
      { from: 'b', to: 'd' },
      { from: 'c', to: 'd' },
    ],
  };

  it('places nodes left to right by rank and keeps everything else', () => {
    const out = layoutGraph(diamond);
    const pos = Object.fromEntries(out.nodes.map((n) => [n.id, n.position]));
    expect(pos.a!.x).toBeLessThan(pos.b!.x);
    expect(pos.b!.x).toBe(pos.c!.x);
    expect(pos.b!.y).not.toBe(pos.c!.y);
    expect(pos.c!.x).toBeLessThan(pos.d!.x);
    expect(out.name).toBe('diamond');
    expect(out.edges).toEqual(diamond.edges);
    expect(out.nodes[3]).toMatchObject({ type: 'core.merge', params: { mode: 'object' } });
  });

  it('replaces old positions and tolerates cycles and edges to unknown nodes', () => {
    const out = layoutGraph({ nodes: [{ id: 'x', position: { x: 999, y: 999 } }, { id: 'y' }], edges: [{ from: 'x', to: 'y' }, { from: 'y', to: 'x' }, { from: 'x', to: 'ghost' }] });
    expect(out.nodes[0]!.position).not.toEqual({ x: 999, y: 999 });
    expect(out.edges).toHaveLength(3);
  });

  it('lists every shape problem at once', () => {
    let err: unknown;
    try {
      layoutGraph({ nodes: [{ id: 'a' }, { id: 'a' }, { noId: true }], edges: [{ from: 1 }] });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).details).toEqual([
      { path: '$.nodes[1].id', message: 'duplicate node id a' },
      { path: '$.nodes[2].id', message: 'each node needs a non-empty string id' },
      { path: '$.edges[0]', message: 'each edge needs string from and to' },
    ]);
  });

  it('refuses graphs above the configured size', async () => {
    const handler = new LayoutWorkflowHandler({ engine: { maxNodes: 2 } } as never);
    await expect(handler.execute(new LayoutWorkflowQuery({ nodes: [{ id: 'a' }, { id: 'b' }, { id: 'c' }], edges: [] }))).rejects.toBeInstanceOf(ApiError);
  });
});
