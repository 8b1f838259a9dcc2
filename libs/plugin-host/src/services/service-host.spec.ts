import { describe, expect, it } from '@jest/globals';
import { MemoryNamedLeases } from '@anchorflow/engine';
import { type NodeLogger, type ServiceContext, definePlugin, defineService } from '@anchorflow/plugin-sdk';
import { MemoryPluginState, RecordingMetrics } from '@anchorflow/plugin-sdk/testing';
import { ServiceHost, type ServiceHostOptions } from './service-host.js';

const silent: NodeLogger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

async function until(what: string, check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function host(plugin: ReturnType<typeof definePlugin>, over: Partial<ServiceHostOptions> = {}): ServiceHost {
  return new ServiceHost({
    plugins: [{ name: plugin.name, definition: plugin, config: { greeting: 'hi' } }],
    state: () => new MemoryPluginState(),
    credentials: { get: async <T extends object>() => ({}) as T },
    resume: async () => true,
    now: () => 7,
    logger: silent,
    leases: new MemoryNamedLeases(),
    holder: 'daemon-a',
    leaseMs: 150,
    backoff: { initialMs: 20, maxMs: 40 },
    ...over,
  });
}

describe('ServiceHost', () => {
  it('starts every-daemon services with their config, and stops them (signal aborted, stop awaited)', async () => {
    let seen: ServiceContext<any> | undefined;
    let stopped = 0;
    const plugin = definePlugin({
      name: 'p', version: '1.0.0', nodes: [],
      services: [defineService({ name: 'pool', scope: 'every-daemon', start: async (ctx) => ((seen = ctx), () => void stopped++) })],
    });
    const h = host(plugin);
    h.start();
    await until('running', () => h.statuses()[0]!.status === 'running');
    expect(seen!.config).toEqual({ greeting: 'hi' });
    expect(seen!.now()).toBe(7);
    await h.stop();
    expect(seen!.signal.aborted).toBe(true);
    expect(stopped).toBe(1);
    expect(h.statuses()[0]).toMatchObject({ plugin: 'p', name: 'pool', status: 'stopped' });
  });

  it('reports a service whose start throws and restarts it with backoff until it runs', async () => {
    let attempts = 0;
    const plugin = definePlugin({
      name: 'p', version: '1.0.0', nodes: [],
      services: [defineService({ name: 'flaky', scope: 'every-daemon', start: () => { if (++attempts < 3) throw new Error(`rpc down (${attempts})`); return () => {}; } })],
    });
    const restarted: string[] = [];
    const metrics = new RecordingMetrics();
    const h = host(plugin, { onRestart: (p, s) => void restarted.push(`${p}/${s}`), metrics: (p) => (p === 'p' ? metrics : new RecordingMetrics()) });
    h.start();
    await until('failed', () => h.statuses()[0]!.status === 'failed');
    expect(h.statuses()[0]).toMatchObject({ status: 'failed', lastError: { message: 'rpc down (1)' }, retryAt: expect.any(String) });
    await until('running after restarts', () => h.statuses()[0]!.status === 'running');
    expect(h.statuses()[0]).toMatchObject({ restarts: 2, lastError: { message: 'rpc down (2)' } });
    // the daemon counts restarts (anchorflow_plugin_service_restarts_total) from this hook
    expect(restarted).toEqual(['p/flaky', 'p/flaky']);
    await h.stop();
  });

  it('keeps the ctx.health reports of running services for readiness, and drops them when the service stops or fails', async () => {
    let ctxSeen: ServiceContext<any> | undefined;
    let attempts = 0;
    const plugin = definePlugin({
      name: 'p', version: '1.0.0', nodes: [],
      services: [
        defineService({ name: 'follower', scope: 'every-daemon', start: (ctx) => { ctxSeen = ctx; ctx.health.report('rpc:main', { state: 'degraded', detail: 'failing: rpcUrls[0]', components: { 'rpcUrls[0]': { state: 'down', detail: 'ECONNREFUSED' } } }); return () => {}; } }),
        defineService({ name: 'flaky', scope: 'every-daemon', start: (ctx) => { ctx.health.report('relay', { state: 'down' }); if (++attempts < 2) throw new Error('boom'); return () => {}; } }),
      ],
    });
    const h = host(plugin);
    h.start();
    await until('both running', () => h.statuses().every((s) => s.status === 'running'));
    expect(h.health()).toEqual([
      { plugin: 'p', service: 'follower', name: 'rpc:main', report: { state: 'degraded', detail: 'failing: rpcUrls[0]', components: { 'rpcUrls[0]': { state: 'down', detail: 'ECONNREFUSED' } } }, since: expect.any(String), at: expect.any(String) },
      // the failed first attempt's report went with it; the running one reported again
      { plugin: 'p', service: 'flaky', name: 'relay', report: { state: 'down' }, since: expect.any(String), at: expect.any(String) },
    ]);
    expect(() => ctxSeen!.health.report('rpc:main', { state: 'fine' as never })).toThrow(/"ok", "degraded" or "down"/);
    ctxSeen!.health.report('rpc:main', { state: 'ok' });
    expect(h.health()[0]!.report).toEqual({ state: 'ok' });
    await h.stop();
    expect(h.health()).toEqual([]);
    ctxSeen!.health.report('rpc:main', { state: 'down' }); // a stopped instance is not listened to
    expect(h.health()).toEqual([]);
  });

  it("gives a service its plugin's metrics (the registry its nodes report to)", async () => {
    const metrics = new RecordingMetrics();
    const plugin = definePlugin({
      name: 'p', version: '1.0.0', nodes: [],
      services: [defineService({ name: 'follower', scope: 'every-daemon', start: (ctx) => { ctx.metrics.gauge('blocks_behind_head', 'lag', ['chain']).set(12, { chain: 'local' }); return () => {}; } })],
    });
    const h = host(plugin, { metrics: () => metrics });
    h.start();
    await until('running', () => h.statuses()[0]!.status === 'running');
    expect(metrics.value('blocks_behind_head', { chain: 'local' })).toBe(12);
    await h.stop();
  });

  it('runs a one-per-cluster service in exactly one of two hosts and moves it when the holder stops', async () => {
    const leases = new MemoryNamedLeases();
    const running = new Set<string>();
    const make = (holder: string) =>
      definePlugin({
        name: 'p', version: '1.0.0', nodes: [],
        services: [defineService({ name: 'ticker', scope: 'one-per-cluster', start: () => (running.add(holder), () => void running.delete(holder)) })],
      });
    const a = host(make('a'), { leases, holder: 'a' });
    const b = host(make('b'), { leases, holder: 'b' });
    a.start();
    await until('a runs it', () => running.has('a'));
    b.start();
    await new Promise((r) => setTimeout(r, 200)); // more than one renewal interval: b must stay in standby
    expect([...running]).toEqual(['a']);
    expect(b.statuses()[0]!.status).toBe('standby');
    await a.stop();
    await until('b takes it over', () => running.has('b'));
    expect([...running]).toEqual(['b']);
    await b.stop();
  });
});
