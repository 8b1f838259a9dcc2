/**
 * Each network's RPC state, as the batcher service reports it through ctx.health for the daemon's
 * readiness: real endpoints (the fake Casper node + sidecar, a real anvil), probed by the service.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { createServer } from 'node:net';
import { startFakeCasper, type FakeCasper } from '../../../test/support/fake-casper/index.js';
import { startAnvil, type Anvil } from './spec-support/anvil.js';
import { serviceHarness } from './spec-support/harness.js';
import { AnchorService } from './service.js';

async function deadUrl(): Promise<string> {
  const port = await new Promise<number>((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const p = (srv.address() as { port: number }).port;
      srv.close(() => resolve(p));
    });
  });
  return `http://127.0.0.1:${port}/v3/secret-api-key`;
}

async function probed(config: unknown, rounds: number) {
  const h = serviceHarness(config, {});
  const service = h.service();
  await service.init();
  for (let i = 0; i < rounds; i++) await service.probeAll();
  return { h, service };
}

describe('chain RPC health (Casper: fake node + sidecar)', () => {
  let fake: FakeCasper;
  const config = (over: Record<string, unknown> = {}) => ({
    chains: { cas: { kind: 'casper', nodeUrl: fake.nodeUrl, sidecarUrl: fake.sidecarUrl, chainName: 'casper-fake', contractHash: 'ab'.repeat(32), paymentMotes: '1', sidecarTimeoutMs: 300, nodeTimeoutMs: 300, ...over } },
  });
  beforeEach(async () => {
    fake = await startFakeCasper({ chainName: 'casper-fake' });
  });
  afterEach(async () => {
    await fake.stop();
  });

  it('ok → degraded naming the sidecar (after two failed probes, not one) → down with the node too → ok again', async () => {
    const h = serviceHarness(config(), {});
    const service = h.service();
    await service.init();
    const name = AnchorService.healthName('cas');
    const sidecar = `sidecarUrl http://127.0.0.1:${fake.sidecar.port}`;
    const node = `nodeUrl http://127.0.0.1:${fake.node.port}/…`;
    await service.probeAll();
    expect(h.health.get(name)).toEqual({ state: 'ok', components: { [sidecar]: { state: 'ok' }, [node]: { state: 'ok' } } });

    // one slow answer (past the 300 ms timeout) between good ones: no flap
    fake.sidecar.delayMs = 600;
    await service.probeAll();
    fake.sidecar.delayMs = 0;
    await service.probeAll();
    expect(h.health.get(name)?.state).toBe('ok');

    await fake.sidecar.setDown(true);
    await service.probeAll();
    expect(h.health.get(name)?.state).toBe('ok');
    await service.probeAll();
    expect(h.health.get(name)).toEqual({
      state: 'degraded',
      detail: `failing: ${sidecar} (info_get_status: ECONNREFUSED)`,
      components: { [sidecar]: { state: 'down', detail: 'info_get_status: ECONNREFUSED' }, [node]: { state: 'ok' } },
    });

    fake.node.answer = 'garbage';
    await service.probeAll();
    await service.probeAll();
    expect(h.health.get(name)).toMatchObject({ state: 'down', components: { [node]: { state: 'down', detail: 'info_get_status: the answer is not JSON' } } });

    fake.node.answer = 'ok';
    await fake.sidecar.setDown(false);
    await service.probeAll();
    expect(h.health.get(name)?.state).toBe('ok');
    await service.stop();
    expect(h.health.has(name)).toBe(false);
  }, 30_000);

  it('an endpoint of another chain counts as failed, with the reason', async () => {
    const { h } = await probed(config({ chainName: 'casper-test' }), 2);
    expect(h.health.get(AnchorService.healthName('cas'))).toMatchObject({ state: 'down', detail: expect.stringContaining('info_get_status: chain "casper-fake", not the configured "casper-test"') });
  });

  it('the running service probes by itself every healthCheckMs', async () => {
    const h = serviceHarness(config({ healthCheckMs: 100 }), {});
    const service = h.service();
    await service.init();
    service.start();
    await fake.node.setDown(true);
    const deadline = Date.now() + 10_000;
    while (h.health.get(AnchorService.healthName('cas'))?.state !== 'degraded') {
      if (Date.now() > deadline) throw new Error(`not degraded: ${JSON.stringify(h.health.get(AnchorService.healthName('cas')))}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    h.abort.abort();
    await service.stop();
  }, 20_000);
});

describe('chain RPC health (EVM: anvil)', () => {
  let anvil: Anvil;
  beforeAll(async () => {
    anvil = await startAnvil();
  });
  afterAll(async () => {
    await anvil?.stop();
  });

  it('one dead URL of two → degraded, naming it by key and origin only (no path: it may hold an API key)', async () => {
    const dead = await deadUrl();
    const { h } = await probed({ chains: { local: { kind: 'evm', rpcUrls: [anvil.url, dead], chainId: 31337, rpcTimeoutMs: 500 } } }, 2);
    const report = h.health.get(AnchorService.healthName('local'))!;
    expect(report).toMatchObject({ state: 'degraded', components: { [`rpcUrls[0] ${anvil.url}`]: { state: 'ok' } } });
    expect(report.detail).toMatch(/^failing: rpcUrls\[1\] http:\/\/127\.0\.0\.1:\d+\/… \(eth_chainId: ECONNREFUSED\)$/);
    expect(JSON.stringify(report)).not.toContain('secret-api-key');
  });

  it('a URL answering another chain id is down, saying which chain it is', async () => {
    const { h } = await probed({ chains: { local: { kind: 'evm', rpcUrls: [anvil.url], chainId: 1, rpcTimeoutMs: 500 } } }, 2);
    expect(h.health.get(AnchorService.healthName('local'))).toMatchObject({ state: 'down', detail: expect.stringContaining('eth_chainId: chain 31337, not the configured 1') });
  });
});
