import type { NatsConnection } from 'nats';
import { type NodeLogger, defineNode } from '@anchorflow/plugin-sdk';
import { MemoryPluginState } from '@anchorflow/plugin-sdk/testing';
import { Engine, type EventSink, type ExecutionEvent, type ExecutionView, NodeCatalog, type WorkflowDefinition } from '@anchorflow/engine';
import { MemoryExecutionStore, MemoryWorkflowSource } from '@anchorflow/engine/testing';
import { InProcessTransport, NatsTransport, type NatsTransportOptions, RemoteNodeRegistry, RoutingTransport, TRANSPORT_STATE_PLUGIN } from '@anchorflow/transport';

/** a start node like core.trigger.manual (a library never imports a plugin package) */
const manualTriggerNode = defineNode({
  type: 'core.trigger.manual', version: 1, title: 'Manual', category: 'trigger', inputs: [], outputs: ['main'], pure: true,
  execute: (_ctx, input) => ({ main: input }),
});

/**
 * The daemon side as the lead will wire it, minus Nest: catalog with a local trigger, registry of
 * remote types, NATS transport behind a routing transport, engine on an in-memory store.
 */
export async function startDaemon(nc: NatsConnection, prefix: string, opts: { daemonId?: string; transport?: Partial<NatsTransportOptions>; logger?: NodeLogger } = {}) {
  const catalog = new NodeCatalog();
  catalog.register(manualTriggerNode, '@anchorflow/plugin-core');
  const states = new Map<string, MemoryPluginState>();
  const pluginState = (p: string) => states.get(p) ?? (states.set(p, new MemoryPluginState()), states.get(p)!);
  const registry = new RemoteNodeRegistry({ nc, catalog, prefix, store: pluginState('@anchorflow/registry'), ...(opts.logger ? { logger: opts.logger } : {}) });
  await registry.start();
  const nats = new NatsTransport({
    nc, daemonId: opts.daemonId ?? 'daemon-test', registry, catalog, prefix, state: pluginState(TRANSPORT_STATE_PLUGIN),
    ...(opts.logger ? { logger: opts.logger } : {}), ...opts.transport,
  });
  await nats.start();
  const events: ExecutionEvent[] = [];
  const listeners = new Set<(e: ExecutionEvent) => void>();
  const sink: EventSink = { publish: (e) => (events.push(e), listeners.forEach((l) => l(e))) };
  const store = new MemoryExecutionStore();
  const workflows = new MemoryWorkflowSource();
  const engine = new Engine({
    store, catalog, workflows, pluginState, sink,
    transport: new RoutingTransport(catalog, new InProcessTransport(catalog), nats),
    credentials: { get: async <T extends object>(ref: string) => ({ token: `token-of-${ref}` }) as unknown as T },
  });
  nats.attachEngine(engine);
  let n = 0;
  return {
    catalog, registry, nats, engine, store, states, events,
    async start(def: WorkflowDefinition, input: unknown = {}): Promise<string> {
      const id = `wf-${++n}`;
      workflows.put(id, 1, def);
      return (await engine.start({ workflowId: id, version: 1, input })).executionId;
    },
    async finished(executionId: string, ms = 30_000): Promise<ExecutionView> {
      const v = await engine.whenFinished(executionId, ms);
      if (!v) throw new Error(`execution did not finish within ${ms} ms: ${JSON.stringify(engine.view(executionId) ?? (await store.get(executionId)))}`);
      return v;
    },
    /** resolves with the first event (already seen or coming) that matches */
    event(match: (e: ExecutionEvent) => boolean): Promise<ExecutionEvent> {
      const seen = events.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve) => {
        const l = (e: ExecutionEvent) => {
          if (match(e)) {
            listeners.delete(l);
            resolve(e);
          }
        };
        listeners.add(l);
      });
    },
    async stop(): Promise<void> {
      await engine.stop();
      await nats.stop();
      await registry.stop();
    },
  };
}

export type TestDaemon = Awaited<ReturnType<typeof startDaemon>>;

/** waits for a condition a NATS round trip makes true (checks every 10 ms, fails after timeoutMs) */
export async function until(cond: () => boolean | Promise<boolean>, timeoutMs = 15_000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
