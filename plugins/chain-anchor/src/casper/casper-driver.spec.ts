import { describe, expect, it } from '@jest/globals';
import { MemoryPluginState } from '@anchorflow/plugin-sdk/testing';
import { NetworkBatcher } from '../batcher/network-batcher.js';
import { pendingKey, tokenFor } from '../batcher/batch.js';
import { parseChainAnchorConfig, type CasperChainConfig } from '../config.js';
import { leafHash } from '../proof/merkle.js';
import { toHex, type Proof } from '../proof/proof-format.js';
import { verifyProof } from '../proof/verify.js';
import { quietLogger } from '../spec-support/harness.js';
import { CasperDriver, checkCasperProof } from './casper-driver.js';
import type { CasperAnchorClient } from './casper-port.js';

/** An in-memory chain behind the client interface: blocks are added by the test. */
class ScriptedCasper implements CasperAnchorClient {
  submitted: Array<{ root: string; batchId: string; count: number; txHash: string }> = [];
  blocks: Array<{ hash: string; height: number; parentHash: string; timestamp: string }> = [{ hash: 'aa'.repeat(32), height: 0, parentHash: '00'.repeat(32), timestamp: '2026-12-07T00:00:00.000Z' }];
  processed = new Map<string, { height: number; error?: string }>();
  private signedCount = 0;
  signAnchor(a: { root: string; batchId: string; count: number }) {
    const txHash = (++this.signedCount).toString(16).padStart(64, '0');
    return { kind: 'transaction' as const, txHash, json: a };
  }
  async submitSigned(signed: { txHash: string; json: unknown }) {
    if (!this.submitted.some((s) => s.txHash === signed.txHash)) this.submitted.push({ ...(signed.json as { root: string; batchId: string; count: number }), txHash: signed.txHash });
    return { txHash: signed.txHash };
  }
  async status(txHash: string) {
    const p = this.processed.get(txHash);
    if (!p && !this.submitted.some((s) => s.txHash === txHash)) throw Object.assign(new Error('not found'), { code: 'CASPER_TX_NOT_FOUND' });
    if (!p) return { state: 'pending' as const };
    const b = this.blocks[p.height];
    return { state: 'processed' as const, blockHash: b.hash, blockHeight: b.height, timestamp: b.timestamp, ...(p.error ? { error: p.error } : {}) };
  }
  async anchorCall(txHash: string) {
    const s = this.submitted.find((x) => x.txHash === txHash);
    return s ? { contractHash: 'cd'.repeat(32), entryPoint: 'anchor', args: { root: s.root, batch_id: s.batchId } } : undefined;
  }
  async latestBlockHeight() {
    return this.blocks.length - 1;
  }
  async block(h: string | number) {
    return typeof h === 'number' ? this.blocks[h] : this.blocks.find((b) => b.hash === h);
  }
  mine(include: string[] = [], error?: string) {
    const height = this.blocks.length;
    this.blocks.push({ hash: (height + 0xb0).toString(16).padStart(64, 'b'), height, parentHash: this.blocks[height - 1].hash, timestamp: `2026-12-07T00:00:${String(height).padStart(2, '0')}.000Z` });
    for (const t of include) this.processed.set(t, { height, ...(error ? { error } : {}) });
  }
}

const network = parseChainAnchorConfig({ chains: { cas: { kind: 'casper', nodeUrl: 'http://127.0.0.1:1/rpc', chainName: 'casper-test', contractHash: 'hash-' + 'cd'.repeat(32), paymentMotes: '2500000000', confirmations: 2, maxWaitMs: 0 } } }).chains.cas as CasperChainConfig;

describe('Casper driver (against the client interface)', () => {
  it('submits once, waits for processing and depth, re-submits a failed transaction, and hands out proofs that verify', async () => {
    const chain = new ScriptedCasper();
    const state = new MemoryPluginState();
    const resumed = new Map<string, unknown>();
    const ctx = { state, logger: quietLogger(), now: () => Date.now(), resume: async (t: string, d: unknown) => (resumed.set(t, d), true) };
    const batcher = new NetworkBatcher('cas', ctx, new CasperDriver(network, chain, ctx.logger, ctx.now), network);
    const data = [{ a: 1 }, { a: 2 }, { a: 3 }];
    for (const [i, d] of data.entries()) await state.set(pendingKey('cas', `k${i}`), { leaf: toHex(leafHash(d)), token: tokenFor(`k${i}`), enqueuedAt: 0 });
    await batcher.tick(); // seal
    await batcher.tick(); // submit
    await batcher.tick(); // pending
    expect(chain.submitted).toHaveLength(1);
    chain.mine([chain.submitted[0].txHash], 'User error: 1'); // fails on chain
    await batcher.tick();
    await batcher.tick(); // re-submitted
    expect(chain.submitted).toHaveLength(2);
    expect(chain.submitted[1].root).toBe(chain.submitted[0].root);
    chain.mine([chain.submitted[1].txHash]);
    await batcher.tick();
    expect(resumed.size).toBe(0); // 1 of 2 confirmations
    chain.mine();
    await batcher.tick();
    expect(resumed.size).toBe(3);
    const proof = (resumed.get(tokenFor('k1')) as { proof: Proof }).proof;
    expect(proof.anchor).toMatchObject({ chain: 'casper', network: 'cas', txHash: '0x' + chain.submitted[1].txHash, block: 2, contract: '0x' + 'cd'.repeat(32) });
    const verdict = await verifyProof(proof, { data: data[1], hasData: true, online: (p) => checkCasperProof(p, chain, 2) });
    expect(verdict).toMatchObject({ valid: true });
  });
});
