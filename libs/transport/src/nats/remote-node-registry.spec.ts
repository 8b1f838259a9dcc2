import { describe, expect, it } from '@jest/globals';
import type { NatsConnection } from 'nats';
import { IsInt, defineNode } from '@anchorflow/plugin-sdk';
import { MemoryPluginState } from '@anchorflow/plugin-sdk/testing';
import { NodeCatalog, describeNodeType } from '@anchorflow/engine';
import { type AnnounceMessage, encodeMessage } from './messages.js';
import { RemoteNodeRegistry } from './remote-node-registry.js';

class CountParams {
  @IsInt() count!: number;
}
const echo = defineNode({ type: 'demo.echo', version: 1, title: 'Echo', category: 'action', inputs: ['main'], outputs: ['main'], params: CountParams, execute: (_c, i) => ({ main: i }) });
const local = defineNode({ type: 'core.noop', version: 1, title: 'Noop', category: 'flow', inputs: ['main'], outputs: ['main'], execute: (_c, i) => ({ main: i }) });

/** the registry only needs these of a connection when started */
const fakeNc = { subscribe: () => ({ unsubscribe() {} }), publish() {}, flush: async () => undefined } as unknown as NatsConnection;

function announce(workerId: string, heartbeatMs = 1000, extra: Partial<AnnounceMessage> = {}): Uint8Array {
  return encodeMessage({
    v: 1, workerId, plugins: [{ name: 'demo-plugin', version: '1.0.0' }],
    nodeTypes: [{ ...describeNodeType(echo), plugin: 'demo-plugin' }, { ...describeNodeType(local), plugin: 'demo-plugin' }],
    heartbeatMs, at: 0, ...extra,
  } satisfies AnnounceMessage);
}

function setup(store?: MemoryPluginState) {
  let now = 0;
  const catalog = new NodeCatalog();
  catalog.register(local, '@anchorflow/plugin-core');
  const logs: Array<[string, string, Record<string, unknown> | undefined]> = [];
  const log = (level: string) => (msg: string, fields?: Record<string, unknown>) => void logs.push([level, msg, fields]);
  const registry = new RemoteNodeRegistry({ nc: fakeNc, catalog, now: () => now, logger: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') }, ...(store ? { store } : {}) });
  const available: string[] = [];
  registry.onAvailable((t) => available.push(t));
  return { registry, catalog, available, logs, at: (t: number) => (now = t) };
}

describe('RemoteNodeRegistry', () => {
  it('registers announced types in the catalog (never shadowing a local one) and tracks live workers', () => {
    const { registry, catalog, available } = setup();
    registry.onAnnounce(announce('w1'));
    expect(catalog.isRemote('demo.echo')).toBe(true);
    expect(catalog.pluginOf('demo.echo')).toBe('demo-plugin');
    expect(catalog.isRemote('core.noop')).toBe(false);
    expect(registry.hasLiveWorker('demo.echo')).toBe(true);
    expect(registry.hasLiveWorker('core.noop')).toBe(false);
    expect(available).toEqual(['demo.echo']);
    registry.onAnnounce(announce('w2'));
    expect(available).toEqual(['demo.echo']);
    expect(registry.liveWorkers('demo.echo').map((w) => w.workerId)).toEqual(['w1', 'w2']);
  });

  it('forgets a worker after three missed heartbeats, and at once when it leaves', () => {
    const { registry, available, at } = setup();
    registry.onAnnounce(announce('w1', 1000));
    at(2999);
    expect(registry.hasLiveWorker('demo.echo')).toBe(true);
    at(3000);
    expect(registry.hasLiveWorker('demo.echo')).toBe(false);
    registry.onAnnounce(announce('w1', 1000));
    expect(available).toEqual(['demo.echo', 'demo.echo']);
    registry.onAnnounce(announce('w1', 1000, { leaving: true, nodeTypes: [] }));
    expect(registry.hasLiveWorker('demo.echo')).toBe(false);
  });

  it('logs and ignores malformed announcements, keeping the valid types of a partly bad one', () => {
    const { registry, catalog, logs } = setup();
    registry.onAnnounce(new TextEncoder().encode('{"v":1,"workerId":'));
    registry.onAnnounce(encodeMessage({ v: 1, workerId: 'w1', plugins: [], nodeTypes: [{ ...describeNodeType(echo), plugin: 'p', paramsSchema: { type: 'strnig' } }, { ...describeNodeType(echo), type: 'demo.ok', plugin: 'p' }], heartbeatMs: 1000, at: 0 }));
    expect(logs.filter(([l]) => l === 'warn').map(([, m, f]) => `${m}: ${String(f?.reason).slice(0, 40)}`)).toEqual([
      expect.stringContaining('rejected a malformed worker announcement: announce message is not JSON'),
      expect.stringContaining('worker announced an invalid node type; ignored'),
    ]);
    expect(catalog.get('demo.echo')).toBeUndefined();
    expect(catalog.isRemote('demo.ok')).toBe(true);
  });

  it('keeps the newer definition while workers of two releases run, and follows the one left', () => {
    const { registry, catalog, logs } = setup();
    const v = (version: number) => ({ ...describeNodeType(echo), version, plugin: 'demo-plugin' });
    const at = (workerId: string, version: number, leaving = false) =>
      registry.onAnnounce(encodeMessage({ v: 1, workerId, plugins: [], nodeTypes: leaving ? [] : [v(version)], heartbeatMs: 1000, at: 0, ...(leaving ? { leaving } : {}) } satisfies AnnounceMessage));
    at('old', 1);
    at('new', 2);
    expect(catalog.remoteDescriptor('demo.echo')?.version).toBe(2);
    at('old', 1);
    at('old', 1);
    expect(catalog.remoteDescriptor('demo.echo')?.version).toBe(2);
    expect(logs.filter(([, m]) => m.startsWith('worker announces another definition'))).toHaveLength(1);
    expect(registry.liveWorkers('demo.echo')).toHaveLength(2);
    at('new', 2, true);
    at('old', 1);
    expect(catalog.remoteDescriptor('demo.echo')?.version).toBe(1);
  });

  it('remembers announced types in its store so they stay known after a restart', async () => {
    const store = new MemoryPluginState();
    const first = setup(store);
    first.registry.onAnnounce(announce('w1'));
    await new Promise((r) => setImmediate(r));
    const second = setup(store);
    expect(second.catalog.get('demo.echo')).toBeUndefined();
    await second.registry.start();
    await second.registry.stop();
    expect(second.catalog.isRemote('demo.echo')).toBe(true);
    expect(second.registry.hasLiveWorker('demo.echo')).toBe(false);
  });
});
