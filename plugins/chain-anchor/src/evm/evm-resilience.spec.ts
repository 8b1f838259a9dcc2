import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Wallet } from 'ethers';
import { ANVIL_KEY_0, startAnvil, type Anvil } from '../spec-support/anvil.js';
import { anchorItem, resumeItem, serviceHarness, stepUntil } from '../spec-support/harness.js';
import { batchKey, type ActiveBatch } from '../batcher/batch.js';
import { EvmChain, ANCHORED_TOPIC } from './evm-chain.js';
import { verifyProof } from '../proof/verify.js';
import { onlineCheckerFor } from '../service.js';
import type { Proof } from '../proof/proof-format.js';

// Each test uses its own signing key, so their nonces never interact.
let anvil: Anvil;
let registry: string;

const config = (key: string, extra: Record<string, unknown> = {}) => ({
  chains: { local: { kind: 'evm', rpcUrls: [anvil.url], chainId: 31337, registry, signer: key, confirmations: 1, maxWaitMs: 0, pollMs: 50, ...extra } },
});
const creds: Record<string, { privateKey: string }> = {};
const online = (confirmations = 1) => onlineCheckerFor({ local: { kind: 'evm', rpcUrls: [anvil.url], chainId: 31337, registry, confirmations, rpcTimeoutMs: 5000 } });
const logsOf = (root: string) => anvil.rpc<Array<{ transactionHash: string; blockHash: string; blockNumber: string }>>('eth_getLogs', [{ address: registry, topics: [ANCHORED_TOPIC, root], fromBlock: '0x0', toBlock: 'latest' }]);
const progress = async (h: ReturnType<typeof serviceHarness>) => (await h.state.get<ActiveBatch>(batchKey('local')))?.chain as { txs?: Array<{ hash: string; nonce: number }>; mined?: { txHash: string; blockHash: string; block: number } } | undefined;

beforeAll(async () => {
  anvil = await startAnvil();
  const chain = new EvmChain({ rpcUrls: [anvil.url], chainId: 31337, rpcTimeoutMs: 5000 });
  registry = (await chain.deployRegistry(new Wallet(ANVIL_KEY_0), 20)).address.toLowerCase();
  chain.destroy();
  for (const k of ['k0', 'k1', 'k2', 'k3']) creds[k] = { privateKey: await anvil.fundedKey() };
}, 30_000);

afterAll(async () => {
  await anvil?.stop();
});

describe('EVM anchoring under trouble', () => {
  it('re-anchors after a reorg drops the anchoring block below the confirmation depth; the proofs name the new block', async () => {
    const h = serviceHarness(config('k0', { confirmations: 3 }), creds);
    const service = h.service();
    await service.init();
    const data = [{ reorg: 1 }, { reorg: 2 }, { reorg: 3 }];
    const tokens = await Promise.all(data.map((d, i) => anchorItem(h, `reorg:${i}`, d)));
    await stepUntil(service, async () => (await progress(h))?.mined !== undefined);
    const first = (await progress(h))!.mined!;
    await anvil.rpc('anvil_mine', ['0x1']); // 2 of 3 confirmations
    await service.tickAll();
    expect(h.resumed.size).toBe(0);
    await anvil.rpc('anvil_reorg', [2, []]); // the anchoring block and the one above it are replaced
    const gone = await anvil.rpc('eth_getTransactionReceipt', [first.txHash]);
    expect(gone).toBeNull();
    await stepUntil(service, () => h.resumed.size === 3, 20_000, () => anvil.rpc('anvil_mine', ['0x1']));
    const proofs = (await Promise.all(tokens.map((t: string, i: number) => resumeItem(h, `reorg:${i}`, t)))) as Proof[];
    expect(proofs[0].anchor.blockHash).not.toBe(first.blockHash);
    expect(h.logs.some((l) => l.fields?.event === 'chain.reorg')).toBe(true);
    const logs = await logsOf(proofs[0].root);
    expect(logs).toHaveLength(1);
    expect(logs[0].blockHash).toBe(proofs[0].anchor.blockHash);
    for (const [i, p] of proofs.entries()) expect(await verifyProof(p, { data: data[i], hasData: true, online: online(3) })).toMatchObject({ valid: true });
    await service.stop();
  }, 40_000);

  it('a daemon killed with the transaction in flight: the next one finds it, sends no second transaction, and every item gets its proof', async () => {
    await anvil.rpc('anvil_setAutomine', [false]);
    try {
      const h1 = serviceHarness(config('k1'), creds);
      const s1 = h1.service();
      await s1.init();
      const items = Array.from({ length: 20 }, (_, i) => ({ key: `crash:${i}`, data: { crash: i } }));
      const tokens = await Promise.all(items.map((it) => anchorItem(h1, it.key, it.data)));
      await stepUntil(s1, async () => ((await progress(h1))?.txs?.length ?? 0) > 0);
      const sent = (await progress(h1))!.txs![0];
      expect(await anvil.rpc('eth_getTransactionByHash', [sent.hash])).not.toBeNull();
      // "SIGKILL": s1 is abandoned without stop(); a new service starts on the same durable state
      const h2 = serviceHarness(config('k1'), creds, h1.state);
      for (const t of tokens) h2.waiting.add(t);
      const s2 = h2.service();
      await s2.init();
      await s2.tickAll();
      await s2.tickAll();
      expect((await progress(h2))!.txs!.map((t) => t.hash)).toEqual([sent.hash]);
      await anvil.rpc('evm_mine');
      await stepUntil(s2, () => h2.resumed.size === 20, 20_000, () => anvil.rpc('evm_mine'));
      const proofs = (await Promise.all(items.map((it, i) => resumeItem(h2, it.key, tokens[i])))) as Proof[];
      expect(new Set(proofs.map((p) => p.anchor.txHash))).toEqual(new Set([sent.hash]));
      expect(await logsOf(proofs[0].root)).toHaveLength(1);
      await s2.stop();
    } finally {
      await anvil.rpc('anvil_setAutomine', [true]);
    }
  }, 40_000);

  it('a daemon killed with an open batch: the next one seals every pending item into one transaction', async () => {
    const h1 = serviceHarness(config('k1', { maxWaitMs: 60_000, batchSize: 500 }), creds);
    const s1 = h1.service();
    await s1.init();
    const items = Array.from({ length: 30 }, (_, i) => ({ key: `open:${i}`, data: { open: i } }));
    const tokens = await Promise.all(items.map((it) => anchorItem(h1, it.key, it.data)));
    await s1.tickAll();
    expect(await progress(h1)).toBeUndefined(); // still open: 30 < 500 and not 60 s old
    const h2 = serviceHarness(config('k1', { maxWaitMs: 0 }), creds, h1.state);
    for (const t of tokens) h2.waiting.add(t);
    const s2 = h2.service();
    await s2.init();
    await stepUntil(s2, () => h2.resumed.size === 30);
    const proofs = (await Promise.all(items.map((it, i) => resumeItem(h2, it.key, tokens[i])))) as Proof[];
    expect(new Set(proofs.map((p) => p.anchor.txHash)).size).toBe(1);
    expect(await logsOf(proofs[0].root)).toHaveLength(1);
    await s2.stop();
  }, 30_000);

  it('re-prices a transaction stuck past feeBumpAfterMs (same nonce) and the batch is anchored once', async () => {
    await anvil.rpc('anvil_setAutomine', [false]);
    try {
      const h = serviceHarness(config('k2', { feeBumpAfterMs: 200 }), creds);
      const service = h.service();
      await service.init();
      const t = await anchorItem(h, 'bump:1', { bump: 1 });
      await stepUntil(service, async () => ((await progress(h))?.txs?.length ?? 0) >= 2, 10_000, () => new Promise((r) => setTimeout(r, 50)));
      const txs = (await progress(h))!.txs!;
      expect(txs[1].nonce).toBe(txs[0].nonce);
      expect(txs[1].hash).not.toBe(txs[0].hash);
      await anvil.rpc('evm_mine');
      await stepUntil(service, () => h.resumed.has(t), 10_000, () => anvil.rpc('evm_mine'));
      const proof = (await resumeItem(h, 'bump:1', t)) as Proof;
      expect(txs.map((x) => x.hash)).toContain(proof.anchor.txHash);
      expect(await logsOf(proof.root)).toHaveLength(1);
      await service.stop();
    } finally {
      await anvil.rpc('anvil_setAutomine', [true]);
    }
  }, 30_000);

  it('reconciles the nonce when another transaction of the same key takes it: re-signs, anchors once', async () => {
    await anvil.rpc('anvil_setAutomine', [false]);
    try {
      const h = serviceHarness(config('k3', { feeBumpAfterMs: 3_600_000 }), creds);
      const service = h.service();
      await service.init();
      const t = await anchorItem(h, 'nonce:1', { nonce: 1 });
      await stepUntil(service, async () => ((await progress(h))?.txs?.length ?? 0) > 0);
      const ours = (await progress(h))!.txs![0];
      // someone else uses the key: a plain transfer with the same nonce and a much higher fee replaces ours
      const w = new Wallet(creds.k3.privateKey);
      const raw = await w.signTransaction({ type: 2, chainId: 31337, to: w.address, value: 1n, nonce: ours.nonce, gasLimit: 21_000n, maxFeePerGas: 100_000_000_000n, maxPriorityFeePerGas: 50_000_000_000n });
      await anvil.rpc('eth_sendRawTransaction', [raw]);
      await anvil.rpc('evm_mine');
      await stepUntil(service, () => h.resumed.has(t), 15_000, () => anvil.rpc('evm_mine'));
      const proof = (await resumeItem(h, 'nonce:1', t)) as Proof;
      expect(proof.anchor.txHash).not.toBe(ours.hash);
      expect(h.logs.some((l) => l.fields?.event === 'chain.nonce.reconciled')).toBe(true);
      expect(await verifyProof(proof, { online: online() })).toMatchObject({ valid: true });
      await service.stop();
    } finally {
      await anvil.rpc('anvil_setAutomine', [true]);
    }
  }, 30_000);
});
