/**
 * chain.anchor end to end (issue 9): real daemon processes, a real anvil, the AnchorRegistry deployed by
 * `anchorflow chain deploy-registry`, proofs downloaded over REST and checked by the CLI.
 * - concurrent executions share one transaction; every proof verifies offline and online;
 * - SIGKILL with a batch open, and with its transaction in flight: after the restart every item still
 *   gets a proof and each batch has exactly one transaction;
 * - Casper: the same through the fake Casper node + sidecar (test/support/fake-casper, real casper-js-sdk).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Api, nodeRun, type Execution } from './support/api.js';
import { ANCHORED_TOPIC } from '@anchorflow/plugin-chain-anchor';
import { startAnvil, type Anvil, ANVIL_KEY_0 } from './support/anvil.js';
import { runCli } from './support/cli.js';
import { REPO_ROOT, startDaemon, type Daemon } from './support/daemon.js';
import { currentRun } from './support/e2e-env.js';
import { chain, manual, node, uid, workflow } from './support/graph.js';
import { startFakeCasper } from './support/fake-casper/index.js';
import casper from 'casper-js-sdk';
import { until } from './support/until.js';

const PLUGIN = path.join(REPO_ROOT, 'plugins/chain-anchor');
let anvil: Anvil;
let registry: string;
const daemons: Daemon[] = [];

function configFile(network: Record<string, unknown>): string {
  const dir = mkdtempSync(path.join(currentRun().runDir, 'chain-config-'));
  const file = path.join(dir, 'anchorflow.yaml');
  const chains = JSON.stringify({ local: { kind: 'evm', rpcUrls: [anvil.url], chainId: 31337, signer: 'anvil-key', confirmations: 1, pollMs: 100, ...network } });
  writeFileSync(file, `plugins:\n  - '${PLUGIN}'\npluginConfig:\n  chain-anchor:\n    chains: ${chains}\n`);
  return file;
}

async function daemonWith(name: string, network: Record<string, unknown>, reuse?: Daemon): Promise<{ daemon: Daemon; api: Api; config: string }> {
  const config = configFile({ registry, ...network });
  const daemon = await startDaemon({
    name,
    ...(reuse ? { dataDir: reuse.dataDir, databaseUrl: reuse.databaseUrl } : {}),
    env: { ANCHORFLOW_CONFIG: config, ANCHORFLOW_ENGINE_POLL_INTERVAL_MS: '500' },
  });
  daemons.push(daemon);
  const api = new Api(daemon.url);
  if (!reuse) {
    const res = await api.post('/api/v1/credentials', { type: 'evm-signer', name: 'anvil-key', data: { privateKey: await anvil.fundedKey() } });
    expect(res.status).toBe(201);
  }
  return { daemon, api, config };
}

const anchorFlow = (name: string) => workflow(name, [manual(), node('anchor', 'chain.anchor', { network: 'local', data: '=$.doc' })], chain('start', 'anchor'));

async function anchoredLogs(): Promise<Array<{ transactionHash: string; topics: string[] }>> {
  return anvil.rpc('eth_getLogs', [{ address: registry, topics: [ANCHORED_TOPIC], fromBlock: '0x0', toBlock: 'latest' }]);
}


const proofOf = (e: Execution) => (nodeRun(e, 'anchor').output as { main: { proof: { root: string; anchor: { txHash: string; block: number } } } }).main.proof;

beforeAll(async () => {
  anvil = await startAnvil();
  // the CLI deploys the registry from a config that names the network but no registry yet
  const deploy = await runCli(['chain', 'deploy-registry', '--network', 'local'], { env: { ANCHORFLOW_CONFIG: configFile({}), ANCHORFLOW_DEPLOYER_KEY: ANVIL_KEY_0 } });
  expect({ code: deploy.code, stderr: deploy.stderr }).toMatchObject({ code: 0 });
  registry = deploy.stdout.trim().toLowerCase();
  expect(registry).toMatch(/^0x[0-9a-f]{40}$/);
}, 60_000);

afterEach(async () => {
  await Promise.all(daemons.splice(0).map((d) => (d.hasExited() ? undefined : d.stop().catch(() => d.kill()))));
});

afterAll(async () => {
  await anvil?.stop();
});

describe('chain.anchor on a real daemon and anvil', () => {
  it('anchors concurrent executions in one transaction; proofs download over REST and verify (REST and CLI), tampering is caught', async () => {
    const { api, config } = await daemonWith('chain-basic', { batchSize: 25, maxWaitMs: 30_000 });
    const wf = await api.createWorkflow(anchorFlow(`anchor ${uid()}`));
    const before = (await anchoredLogs()).length;
    const docs = Array.from({ length: 25 }, (_, i) => ({ invoice: `INV-${i}`, total: i * 3.25 }));
    const ids = await Promise.all(docs.map((doc) => api.startExecution(wf.id, { doc })));
    const done = await Promise.all(ids.map((id) => api.waitForStatus(id, ['succeeded', 'failed', 'cancelled'], { timeoutMs: 60_000, intervalMs: 200 })));
    expect(done.map((e) => e.status)).toEqual(docs.map(() => 'succeeded'));
    expect(new Set(done.map((e) => proofOf(e).anchor.txHash)).size).toBe(1);
    expect((await anchoredLogs()).length).toBe(before + 1);

    const file = await api.get(`/api/v1/proofs/${ids[3]}/anchor`);
    expect(file.status).toBe(200);
    expect(file.headers.get('content-disposition')).toContain('attachment');
    const proof = JSON.parse(file.text);
    expect(proof).toEqual(proofOf(done[3]));

    const ok = await api.post('/api/v1/proofs/verify', { proof, data: docs[3] });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ valid: true });
    expect(ok.body.checks.map((c: { name: string }) => c.name)).toEqual(['leaf', 'path', 'anchor-event', 'block-canonical', 'confirmations']);
    const wrong = await api.post('/api/v1/proofs/verify', { proof, data: docs[4] });
    expect(wrong.body).toMatchObject({ valid: false, checks: expect.arrayContaining([expect.objectContaining({ name: 'leaf', ok: false })]) });
    const malformed = await api.post('/api/v1/proofs/verify', { proof: { ...proof, leaf: 'nope' } });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error).toMatchObject({ code: 'PROOF_MALFORMED' });
    expect((await api.get(`/api/v1/proofs/${ids[3]}/start`)).status).toBe(404);

    const dir = mkdtempSync(path.join(currentRun().runDir, 'proof-'));
    writeFileSync(path.join(dir, 'proof.json'), file.text);
    writeFileSync(path.join(dir, 'data.json'), JSON.stringify(docs[3]));
    writeFileSync(path.join(dir, 'other.json'), JSON.stringify(docs[5]));
    writeFileSync(path.join(dir, 'bad.json'), JSON.stringify({ v: 1 }));
    const env = { ANCHORFLOW_CONFIG: config };
    const valid = await runCli(['proof', 'verify', path.join(dir, 'proof.json'), '--data', path.join(dir, 'data.json')], { env });
    expect({ code: valid.code, out: valid.stdout }).toMatchObject({ code: 0, out: expect.stringContaining('proof VALID') });
    const offline = await runCli(['proof', 'verify', path.join(dir, 'proof.json'), '--offline'], { env: {} });
    expect(offline.code).toBe(0);
    const invalid = await runCli(['proof', 'verify', path.join(dir, 'proof.json'), '--data', path.join(dir, 'other.json')], { env });
    expect({ code: invalid.code, out: invalid.stdout }).toMatchObject({ code: 1, out: expect.stringContaining('leaf failed') });
    const bad = await runCli(['proof', 'verify', path.join(dir, 'bad.json')], { env });
    expect({ code: bad.code, err: bad.stderr }).toMatchObject({ code: 2, err: expect.stringContaining('$.leaf') });
  }, 180_000);

  it('SIGKILL while the batch is open: after the restart every item gets a proof, in one transaction', async () => {
    const { daemon, api } = await daemonWith('chain-open', { batchSize: 1000, maxWaitMs: 3_600_000 });
    const wf = await api.createWorkflow(anchorFlow(`anchor open ${uid()}`));
    const ids = await Promise.all(Array.from({ length: 12 }, (_, i) => api.startExecution(wf.id, { doc: { open: i } })));
    for (const id of ids) await api.waitForExecution(id, (e) => nodeRun(e, 'anchor')?.status === 'waiting', { what: 'anchor waiting', timeoutMs: 30_000 });
    const before = (await anchoredLogs()).length;
    expect((await daemon.kill()).signal).toBe('SIGKILL');
    const { api: api2 } = await daemonWith('chain-open-restart', { batchSize: 1000, maxWaitMs: 200 }, daemon);
    const done = await Promise.all(ids.map((id) => api2.waitForStatus(id, ['succeeded', 'failed', 'cancelled'], { timeoutMs: 60_000, intervalMs: 200 })));
    expect(done.map((e) => e.status)).toEqual(ids.map(() => 'succeeded'));
    expect(new Set(done.map((e) => proofOf(e).anchor.txHash)).size).toBe(1);
    expect((await anchoredLogs()).length).toBe(before + 1);
  }, 180_000);

  it('SIGKILL with the transaction in flight: the restarted daemon sends no second transaction, every item gets a proof', async () => {
    const { daemon, api } = await daemonWith('chain-inflight', { batchSize: 10, maxWaitMs: 30_000 });
    const wf = await api.createWorkflow(anchorFlow(`anchor inflight ${uid()}`));
    const before = (await anchoredLogs()).length;
    await anvil.rpc('anvil_setAutomine', [false]);
    try {
      const ids = await Promise.all(Array.from({ length: 10 }, (_, i) => api.startExecution(wf.id, { doc: { inflight: i } })));
      // the anchoring transaction reaches anvil's mempool and stays there (no mining)
      const pending = await until('anchor transaction in the mempool', async () => {
        const block = await anvil.rpc<{ transactions: Array<{ hash: string; to: string }> }>('eth_getBlockByNumber', ['pending', true]);
        return block.transactions.find((t) => t.to?.toLowerCase() === registry);
      });
      expect((await daemon.kill()).signal).toBe('SIGKILL');
      const { api: api2 } = await daemonWith('chain-inflight-restart', { batchSize: 10, maxWaitMs: 30_000 }, daemon);
      await anvil.rpc('anvil_setAutomine', [true]);
      await anvil.rpc('evm_mine');
      const done = await Promise.all(ids.map((id) => api2.waitForStatus(id, ['succeeded', 'failed', 'cancelled'], { timeoutMs: 60_000, intervalMs: 200 })));
      expect(done.map((e) => e.status)).toEqual(ids.map(() => 'succeeded'));
      expect(new Set(done.map((e) => proofOf(e).anchor.txHash))).toEqual(new Set([pending.hash.toLowerCase()]));
      expect((await anchoredLogs()).length).toBe(before + 1);
    } finally {
      await anvil.rpc('anvil_setAutomine', [true]);
    }
  }, 180_000);

  it('Casper: executions anchored through the daemon against the fake node + sidecar, one call, proofs valid online', async () => {
    const fake = await startFakeCasper({ chainName: 'casper-fake' });
    const blocks = setInterval(() => fake.produceBlock(), 300);
    try {
      const dir = mkdtempSync(path.join(currentRun().runDir, 'casper-config-'));
      const config = path.join(dir, 'anchorflow.yaml');
      const network = { kind: 'casper', nodeUrl: fake.nodeUrl, sidecarUrl: fake.sidecarUrl, chainName: 'casper-fake', contractHash: 'hash-' + 'c0ffee'.padEnd(64, '0'), paymentMotes: '2500000000', signer: 'casper-key', confirmations: 2, batchSize: 6, maxWaitMs: 30_000, pollMs: 100, healthCheckMs: 200 };
      writeFileSync(config, `plugins:\n  - '${PLUGIN}'\npluginConfig:\n  chain-anchor:\n    chains: ${JSON.stringify({ cas: network })}\n`);
      const daemon = await startDaemon({ name: 'chain-casper', env: { ANCHORFLOW_CONFIG: config, ANCHORFLOW_ENGINE_POLL_INTERVAL_MS: '500' } });
      daemons.push(daemon);
      const api = new Api(daemon.url);
      const pem = casper.PrivateKey.generate(casper.KeyAlgorithm.ED25519).toPem();
      expect((await api.post('/api/v1/credentials', { type: 'casper-signer', name: 'casper-key', data: { privateKeyPem: pem, algorithm: 'ed25519' } })).status).toBe(201);
      const wf = await api.createWorkflow(workflow(`anchor casper ${uid()}`, [manual(), node('anchor', 'chain.anchor', { network: 'cas', data: '=$.doc' })], chain('start', 'anchor')));
      const docs = Array.from({ length: 6 }, (_, i) => ({ casper: i }));
      const ids = await Promise.all(docs.map((doc) => api.startExecution(wf.id, { doc })));
      const done = await Promise.all(ids.map((id) => api.waitForStatus(id, ['succeeded', 'failed', 'cancelled'], { timeoutMs: 60_000, intervalMs: 200 })));
      expect(done.map((e) => e.status)).toEqual(ids.map(() => 'succeeded'));
      const txs = new Set(done.map((e) => proofOf(e).anchor.txHash));
      expect(txs.size).toBe(1);
      expect(fake.chain.accepted.map((a) => '0x' + a.hash)).toEqual([...txs]);
      // execution was learnt from the sidecar's SSE stream: no status polling reached either endpoint
      expect([...fake.sidecar.rpcCalls, ...fake.node.rpcCalls].filter((m) => m === 'info_get_transaction')).toEqual([]);
      expect(fake.sidecar.sseRequests.length).toBeGreaterThanOrEqual(1);
      // readiness lists the network's RPC endpoints
      const key = 'chain-anchor:network:cas';
      const ready = await until('the Casper network in readiness', async () => {
        const r = await api.get('/api/v1/health/ready');
        return r.body?.info?.[key] ? r : undefined;
      });
      expect(ready.status).toBe(200);
      expect(ready.body.info[key]).toMatchObject({ status: 'up', state: 'ok', components: { [`sidecarUrl ${fake.sidecarUrl}`]: { state: 'ok' }, [`nodeUrl ${new URL(fake.nodeUrl).origin}/…`]: { state: 'ok' } } });
      const proof = proofOf(done[2]);
      const verdict = await api.post('/api/v1/proofs/verify', { proof, data: docs[2] });
      expect(verdict.body).toMatchObject({ valid: true });
      expect(verdict.body.checks.map((c: { name: string }) => c.name)).toEqual(['leaf', 'path', 'anchor-event', 'block-canonical', 'confirmations']);

      // the sidecar goes away: still ready (the node serves), degraded, naming the sidecar
      await fake.sidecar.setDown(true);
      // two signs, in either order: the event stream drops (degraded at once) and the sidecar's RPC probe
      // fails twice; wait until the report names the sidecar's URL as failed
      const sidecar = `sidecarUrl ${fake.sidecarUrl}`;
      const degraded = await until('readiness degraded, naming the sidecar', async () => {
        const r = await api.get('/api/v1/health/ready');
        const info = r.body?.info?.[key];
        return info?.state === 'degraded' && info.components?.[sidecar] && info.components[sidecar].state !== 'ok' ? r : undefined;
      });
      expect(degraded.status).toBe(200);
      expect(degraded.body.status).toBe('degraded');
      expect(degraded.body.info[key].components[`nodeUrl ${new URL(fake.nodeUrl).origin}/…`]).toMatchObject({ state: 'ok' });
    } finally {
      clearInterval(blocks);
      await Promise.all(daemons.splice(0).map((d) => (d.hasExited() ? undefined : d.stop().catch(() => d.kill()))));
      await fake.stop();
    }
  }, 180_000);
});
