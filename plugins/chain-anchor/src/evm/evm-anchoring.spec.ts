import { spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Wallet, JsonRpcProvider, Contract } from 'ethers';
import { ANVIL_KEY_0, startAnvil, type Anvil } from '../spec-support/anvil.js';
import { anchorItem, resumeItem, serviceHarness, stepUntil } from '../spec-support/harness.js';
import { pendingPrefix } from '../batcher/batch.js';
import { EvmChain, ANCHORED_TOPIC, REGISTRY_ABI } from './evm-chain.js';
import { verifyProof } from '../proof/verify.js';
import { onlineCheckerFor } from '../service.js';
import type { Proof } from '../proof/proof-format.js';

const STANDALONE = join(dirname(fileURLToPath(import.meta.url)), '../../examples/verify-proof.mjs');
let anvil: Anvil;
let registry: string;
const signer = { 'anvil-key': { privateKey: ANVIL_KEY_0 } };

const chainConfig = (extra: Record<string, unknown> = {}) => ({
  chains: { local: { kind: 'evm', rpcUrls: [anvil.url], chainId: 31337, registry, signer: 'anvil-key', confirmations: 1, batchSize: 10_000, maxWaitMs: 0, pollMs: 50, ...extra } },
});

async function anchoredLogs(root?: string): Promise<Array<{ transactionHash: string; blockHash: string }>> {
  return anvil.rpc('eth_getLogs', [{ address: registry, topics: root ? [ANCHORED_TOPIC, root] : [ANCHORED_TOPIC], fromBlock: '0x0', toBlock: 'latest' }]);
}

const online = (confirmations = 1) => onlineCheckerFor({ local: { kind: 'evm', rpcUrls: [anvil.url], chainId: 31337, registry, confirmations, rpcTimeoutMs: 5000 } });

beforeAll(async () => {
  anvil = await startAnvil();
  const chain = new EvmChain({ rpcUrls: [anvil.url], chainId: 31337, rpcTimeoutMs: 5000 });
  registry = (await chain.deployRegistry(new Wallet(ANVIL_KEY_0), 20)).address.toLowerCase();
  chain.destroy();
}, 30_000);

afterAll(async () => {
  await anvil?.stop();
});

describe('AnchorRegistry on anvil', () => {
  it('anchors a root once, emits Anchored, answers anchoredAt, and refuses the same root again', async () => {
    const provider = new JsonRpcProvider(anvil.url, undefined, { batchMaxCount: 1, cacheTimeout: -1 });
    const wallet = new Wallet(await anvil.fundedKey(), provider);
    const c = new Contract(registry, REGISTRY_ABI, wallet);
    const root = '0x' + '11'.repeat(32);
    const receipt = await (await c.getFunction('anchor')(root, 3, '0x' + '22'.repeat(32))).wait();
    const ev = c.interface.parseLog(receipt!.logs[0])!;
    expect(ev.name).toBe('Anchored');
    expect(ev.args.root).toBe(root);
    expect(ev.args.submitter).toBe(wallet.address);
    expect(Number(ev.args.count)).toBe(3);
    const at = Number(await c.getFunction('anchoredAt')(root));
    expect(at).toBe(Number(ev.args.timestamp));
    expect(at).toBeGreaterThan(0);
    await expect(c.getFunction('anchor')(root, 3, '0x' + '33'.repeat(32))).rejects.toThrow(/AlreadyAnchored|reverted/);
    await expect(c.getFunction('anchor')('0x' + '00'.repeat(32), 1, '0x' + '33'.repeat(32))).rejects.toThrow(/EmptyBatch|reverted/);
    expect(Number(await c.getFunction('anchoredAt')('0x' + '44'.repeat(32)))).toBe(0);
    provider.destroy();
  });
});

describe('chain.anchor → batcher → one transaction → proofs', () => {
  it('anchors 1,000 items from concurrent executions in one transaction; every proof verifies offline and online', async () => {
    const h = serviceHarness(chainConfig({ batchSize: 1000, maxWaitMs: 60_000 }), signer);
    const service = h.service();
    await service.init();
    const items = Array.from({ length: 1000 }, (_, i) => ({ key: `exec-${i}:hash`, data: { invoice: i, amount: i * 10.5, who: `c${i % 7}` } }));
    const tokens = await Promise.all(items.map((it) => anchorItem(h, it.key, it.data)));
    const before = (await anchoredLogs()).length;
    await stepUntil(service, () => h.resumed.size === 1000);
    const proofs = (await Promise.all(items.map((it, i) => resumeItem(h, it.key, tokens[i])))) as Proof[];
    expect(new Set(proofs.map((p) => p.root)).size).toBe(1);
    expect(new Set(proofs.map((p) => p.anchor.txHash)).size).toBe(1);
    expect((await anchoredLogs()).length).toBe(before + 1);
    expect(proofs[0].path.length).toBe(10);
    for (const i of [0, 1, 499, 998, 999]) {
      const verdict = await verifyProof(proofs[i], { data: items[i].data, hasData: true, online: online() });
      expect(verdict).toMatchObject({ valid: true });
      expect(verdict.checks.map((c) => c.name)).toEqual(['leaf', 'path', 'anchor-event', 'block-canonical', 'confirmations']);
    }
    // the README's standalone verifier (node:crypto + ethers) agrees, online included
    const dir = mkdtempSync(join(tmpdir(), 'af-proof-'));
    writeFileSync(join(dir, 'proof.json'), JSON.stringify(proofs[7]));
    writeFileSync(join(dir, 'data.json'), JSON.stringify(items[7].data));
    writeFileSync(join(dir, 'other.json'), JSON.stringify(items[8].data));
    const standalone = (...args: string[]) => spawnSync(process.execPath, [STANDALONE, join(dir, 'proof.json'), ...args], { encoding: 'utf8' });
    const good = standalone(anvil.url, join(dir, 'data.json'));
    expect({ status: good.status, out: good.stdout }).toMatchObject({ status: 0, out: expect.stringContaining('ok   anchor-event') });
    expect(good.stdout).toContain('VALID');
    const bad = standalone(anvil.url, join(dir, 'other.json'));
    expect({ status: bad.status, out: bad.stdout }).toMatchObject({ status: 1, out: expect.stringContaining('FAIL leaf') });
    const offline = await Promise.all(proofs.map((p, i) => verifyProof(p, { data: items[i].data, hasData: true })));
    expect(offline.every((v) => v.valid)).toBe(true);
    const wrong = await verifyProof(proofs[5], { data: items[6].data, hasData: true, online: online() });
    expect(wrong.valid).toBe(false);
    expect(wrong.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(['leaf']);
    expect(await h.state.list(pendingPrefix('local'))).toEqual([]);
    await service.stop();
  }, 60_000);

  it('anchors a single item: root = leaf, empty path, valid online; a second one-item batch of the same data adopts the first anchor instead of reverting', async () => {
    const h = serviceHarness(chainConfig(), signer);
    const service = h.service();
    await service.init();
    const data = { single: 'item', at: 1 };
    const t1 = await anchorItem(h, 'one:a', data);
    await stepUntil(service, () => h.resumed.has(t1));
    const p1 = (await resumeItem(h, 'one:a', t1)) as Proof;
    expect(p1.path).toEqual([]);
    expect(p1.root).toBe(p1.leaf);
    expect(await verifyProof(p1, { data, hasData: true, online: online() })).toMatchObject({ valid: true });
    const t2 = await anchorItem(h, 'one:b', data);
    await stepUntil(service, () => h.resumed.has(t2));
    const p2 = (await resumeItem(h, 'one:b', t2)) as Proof;
    expect(p2.anchor.txHash).toBe(p1.anchor.txHash);
    expect((await anchoredLogs(p1.root)).length).toBe(1);
    await service.stop();
  }, 30_000);

  it('uses the other RPC URL when the first is dead', async () => {
    const dead = 'http://127.0.0.1:9'; // discard port: connection refused
    const h = serviceHarness(chainConfig({ rpcUrls: [dead, anvil.url], rpcTimeoutMs: 2000 }), signer);
    const service = h.service();
    await service.init();
    const t = await anchorItem(h, 'failover:1', { failover: true });
    await stepUntil(service, () => h.resumed.has(t));
    const proof = (await resumeItem(h, 'failover:1', t)) as Proof;
    expect(await verifyProof(proof, { online: online() })).toMatchObject({ valid: true });
    expect(h.logs.some((l) => l.fields?.event === 'chain.rpc.failover')).toBe(true);
    const driver = (service.batchers.get('local')!.driver as unknown as { resolved(): { chain: EvmChain } }).resolved();
    expect(driver.chain.rpc.activeUrl).toBe(anvil.url);
    await service.stop();
  }, 30_000);

  it('moves on from an RPC that answers garbage and from one that hangs, naming each failure when all fail', async () => {
    const garbage = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"jsonrpc":"2.0","id":1,"result":"not-a-quantity"}'));
    });
    const hanging = createServer(() => undefined); // accepts, never answers
    await Promise.all([garbage, hanging].map((s) => new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()))));
    const urlOf = (s: typeof garbage) => `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
    try {
      const h = serviceHarness(chainConfig({ rpcUrls: [urlOf(garbage), urlOf(hanging), anvil.url], rpcTimeoutMs: 300 }), signer);
      const service = h.service();
      await service.init();
      const t = await anchorItem(h, 'garbage:1', { garbage: true });
      await stepUntil(service, () => h.resumed.has(t));
      expect(await verifyProof(await resumeItem(h, 'garbage:1', t), { online: online() })).toMatchObject({ valid: true });
      await service.stop();
      const broken = new EvmChain({ rpcUrls: [urlOf(garbage), urlOf(hanging)], chainId: 31337, rpcTimeoutMs: 300 });
      await expect(broken.latestBlockNumber()).rejects.toThrow(/eth_blockNumber failed on every RPC URL \(http:\/\/127\.0\.0\.1:\d+: .*not a hex quantity.*; http:\/\/127\.0\.0\.1:\d+: .*timed out/);
      broken.destroy();
    } finally {
      hanging.closeAllConnections();
      await Promise.all([garbage, hanging].map((s) => new Promise((r) => s.close(r))));
    }
  }, 30_000);
});
