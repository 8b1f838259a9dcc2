import { describe, expect, it } from '@jest/globals';
import { ApiError } from '../../../common/api-error.js';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { LAYOUT_CONCURRENCY, layoutGraph, layoutInWorker, LayoutWorkflowHandler } from './layout-workflow.handler.js';
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

/** n nodes, 2n pseudo-random edges (cycles, crossings): dagre needs ~1.2 s for 200 of them, ~4.7 s for 400 */
function dense(n: number) {
  let seed = 1;
  const rnd = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
  return { nodes: Array.from({ length: n }, (_, i) => ({ id: `n${i}` })), edges: Array.from({ length: n * 2 }, () => ({ from: `n${Math.floor(rnd() * n)}`, to: `n${Math.floor(rnd() * n)}` })) };
}

describe('layout cannot freeze the daemon (issue 17)', () => {
  it('lays out in a worker thread with the same result', async () => {
    const graph = { nodes: [{ id: 'a' }, { id: 'b' }, { id: 'c' }], edges: [{ from: 'a', to: 'b' }, { from: 'b', to: 'c' }] };
    expect(await layoutInWorker(graph, { maxNodes: 10, timeoutMs: 10_000 })).toEqual(layoutGraph(graph));
  });

  // dagre needs ~4.7 s for dense(400) on a quiet machine: run on the main thread, it would stall the loop
  // that long (a synchronous layout cannot be stopped by the 1 s limit). In the worker the loop keeps
  // turning; a loaded machine (jest workers, PostgreSQL and other suites on two cores) still shows
  // scheduling pauses of up to ~0.8 s, so the bar is twice the limit, well apart from either.
  it('stops a layout past its time limit while the event loop keeps turning (lag far below a main-thread layout)', async () => {
    const timeoutMs = 1000;
    const lag = monitorEventLoopDelay({ resolution: 10 });
    lag.enable();
    const started = Date.now();
    const err = await layoutInWorker(dense(400), { maxNodes: 2000, timeoutMs }).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 20));
    lag.disable();
    expect(err).toMatchObject({ status: 422, code: 'LAYOUT_TOO_COMPLEX' });
    expect(Date.now() - started).toBeLessThan(timeoutMs + 3000);
    expect(lag.max / 1e6).toBeLessThan(2 * timeoutMs);
  });

  it(`runs at most ${LAYOUT_CONCURRENCY} layouts at once; more get 429`, async () => {
    const handler = new LayoutWorkflowHandler({ engine: { maxNodes: 20_000 } } as never);
    const runs = Array.from({ length: LAYOUT_CONCURRENCY + 1 }, () => handler.execute(new LayoutWorkflowQuery(dense(150))).catch((e: unknown) => e));
    const outcomes = await Promise.all(runs);
    expect(outcomes.filter((o) => (o as ApiError).status === 429)).toHaveLength(1);
  }, 30_000);

  it('refuses more edges than it lays out', async () => {
    const nodes = [{ id: 'a' }, { id: 'b' }];
    await expect(layoutInWorker({ nodes, edges: Array.from({ length: 10_001 }, () => ({ from: 'a', to: 'b' })) }, { maxNodes: 10, timeoutMs: 1000 })).rejects.toMatchObject({ status: 400 });
  });
});
