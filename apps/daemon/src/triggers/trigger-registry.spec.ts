import { afterEach, describe, expect, it } from '@jest/globals';
import { type Engine, EngineError, MemoryNamedLeases, NodeCatalog, type StoredWorkflow } from '@anchorflow/engine';
import { ManualClock } from '@anchorflow/engine/testing';
import { MemoryPluginState } from '@anchorflow/plugin-sdk/testing';
import { defineTrigger, type TriggerContext, type TriggerMessaging } from '@anchorflow/plugin-sdk';
import pino from 'pino';
import type { AnchorflowConfig } from '../config/config.schema.js';
import type { NatsCluster } from '../engine/nats-cluster.js';
import { TriggerRegistry } from './trigger-registry.service.js';

let attempts = 0;
const seen: Array<TriggerContext<object>> = [];
const flaky = defineTrigger({
  type: 'spec.flaky',
  version: 1,
  title: 'Flaky',
  async start(ctx, fire) {
    seen.push(ctx);
    if (++attempts === 1) throw new Error('database away');
    await fire({ started: attempts });
    return () => {};
  },
});
const clusterOnly = defineTrigger({
  type: 'spec.cluster',
  version: 1,
  title: 'Cluster',
  requires: 'cluster',
  async start(ctx) {
    seen.push(ctx);
    return () => {};
  },
});

function setup(options: { cluster?: boolean } = {}) {
  const catalog = new NodeCatalog();
  catalog.register(flaky, 'spec');
  catalog.register(clusterOnly, 'spec');
  const clock = new ManualClock(Date.parse('2026-12-07T10:00:00Z'));
  const started: unknown[] = [];
  const engine = {
    catalog,
    now: () => clock.now(),
    setTimer: (ms: number, fn: () => void) => clock.setTimer(ms, fn),
    start: async (req: { input: unknown }) => (started.push(req.input), { executionId: `e${started.length}`, duplicate: false }),
  } as unknown as Engine;
  const cluster = options.cluster ? ({ nc: {}, prefix: 'spec' } as unknown as NatsCluster) : null;
  const registry = new TriggerRegistry(
    engine,
    { listActive: async () => [] } as never,
    () => new MemoryPluginState(),
    pino({ level: 'silent' }),
    new MemoryNamedLeases(),
    'daemon-1',
    { cluster: { leaseMs: 60_000 } } as AnchorflowConfig,
    undefined,
    cluster,
  );
  return { registry, clock, started };
}

const workflow = (...types: string[]): StoredWorkflow => ({
  id: 'wf-1', name: 'w', version: 3, active: true, createdAt: '2026-12-01T00:00:00.000Z', updatedAt: '2026-12-07T09:00:00.000Z',
  definition: { name: 'w', nodes: types.map((type, i) => ({ id: i === 0 ? 'src' : `src${i}`, type, params: {} })), edges: [] },
});

async function until(what: string, probe: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !probe(); i++) await new Promise((r) => setTimeout(r, 5));
  if (!probe()) throw new Error(`not reached: ${what}`);
}

describe('TriggerRegistry', () => {
  let registry: TriggerRegistry | undefined;
  afterEach(async () => {
    await registry?.remove('wf-1');
    attempts = 0;
    seen.length = 0;
  });

  it('gives a source the engine clock and its activation, and starts it again after a failed start', async () => {
    const s = setup();
    registry = s.registry;
    await registry.apply(workflow('spec.flaky'));
    await until('the first attempt', () => attempts === 1);
    expect(seen[0]).toMatchObject({ workflowId: 'wf-1', nodeId: 'src', activation: '3@2026-12-07T09:00:00.000Z' });
    expect(seen[0]!.now()).toBe(Date.parse('2026-12-07T10:00:00Z'));
    expect(seen[0]!.messaging).toBeUndefined();
    await s.clock.advance(999);
    expect(attempts).toBe(1);
    await s.clock.advance(1);
    await until('the second attempt', () => attempts === 2);
    expect(s.started).toEqual([{ started: 2 }]);
  });

  it('refuses to activate a cluster-only trigger without NATS, naming the node, and does not start it', async () => {
    const s = setup();
    registry = s.registry;
    const wf = workflow('spec.cluster');
    let err: unknown;
    try {
      registry.assertCanActivate(wf);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(EngineError);
    expect(err).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringContaining('src: spec.cluster needs cluster mode') });
    // beside a trigger that does start: once that one ran, the cluster-only one has had its chance
    await registry.apply(workflow('spec.cluster', 'spec.flaky'));
    await until('the other trigger started', () => attempts === 1);
    expect(seen.map((c) => c.nodeId)).toEqual(['src1']);
  });

  it('in cluster mode the source gets ctx.messaging', async () => {
    const s = setup({ cluster: true });
    registry = s.registry;
    expect(() => registry!.assertCanActivate(workflow('spec.cluster'))).not.toThrow();
    await registry.apply(workflow('spec.cluster'));
    await until('the start', () => seen.length === 1);
    expect(typeof (seen[0]!.messaging as TriggerMessaging).subscribe).toBe('function');
  });
});
