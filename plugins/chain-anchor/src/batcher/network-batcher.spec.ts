import { describe, expect, it } from '@jest/globals';
import { MemoryPluginState } from '@anchorflow/plugin-sdk/testing';
import { leafHash } from '../proof/merkle.js';
import { toHex, type ProofAnchor } from '../proof/proof-format.js';
import { verifyOffline } from '../proof/verify.js';
import { quietLogger } from '../spec-support/harness.js';
import { pendingKey, type ActiveBatch, type ChainDriver, type DeliveredProof, type PendingItem } from './batch.js';
import { NetworkBatcher } from './network-batcher.js';

const anchor: ProofAnchor = { chain: 'evm', network: 'local', chainId: 31337, txHash: `0x${'a'.repeat(64)}`, block: 7, blockHash: `0x${'b'.repeat(64)}`, contract: `0x${'c'.repeat(40)}`, timestamp: '2026-12-07T00:00:00.000Z' };

/** a chain that confirms every batch at its first step, counting the roots it was given */
function instantChain(): ChainDriver & { roots: string[] } {
  const roots: string[] = [];
  return { roots, advance: async (batch: ActiveBatch) => (roots.push(batch.root), anchor), close: () => undefined };
}

describe('NetworkBatcher: items no node waits for (deliverTo)', () => {
  it('writes {proof, anchoredAt} to deliverTo, removes the pending item, and resumes no one', async () => {
    const state = new MemoryPluginState();
    const resumed: string[] = [];
    const chain = instantChain();
    const batcher = new NetworkBatcher('local', { state, logger: quietLogger(), now: () => 1_000, resume: async (t) => (resumed.push(t), false) }, chain, { batchSize: 10_000, maxWaitMs: 0 });
    const items = Array.from({ length: 5 }, (_, i) => ({ key: `receipt:${i}`, data: { n: i } }));
    for (const it of items) await state.set(pendingKey('local', it.key), { leaf: toHex(leafHash(it.data)), token: '', enqueuedAt: 0, deliverTo: `receipt/${it.key}` } satisfies PendingItem);
    // a node's item in the same batch still gets resumed
    await state.set(pendingKey('local', 'node-1'), { leaf: toHex(leafHash('node')), token: 'chain.anchor:node-1', enqueuedAt: 0 } satisfies PendingItem);

    while (await batcher.tick());

    expect(chain.roots).toHaveLength(1); // one transaction for all six
    for (const it of items) {
      const delivered = await state.get<DeliveredProof>(`receipt/${it.key}`);
      expect(delivered?.anchoredAt).toBe(1_000);
      expect(verifyOffline(delivered!.proof as never, { data: it.data })).toEqual([expect.objectContaining({ name: 'leaf', ok: true }), expect.objectContaining({ name: 'path', ok: true })]);
      expect(await state.get(pendingKey('local', it.key))).toBeUndefined();
    }
    expect([...new Set(resumed)]).toEqual(['chain.anchor:node-1']); // (retried while nobody waits for it)
  });

  it('refuses a deliverTo that would overwrite its own bookkeeping (the item is treated as a node item)', async () => {
    const state = new MemoryPluginState();
    const batcher = new NetworkBatcher('local', { state, logger: quietLogger(), now: () => 1, resume: async () => false }, instantChain(), { batchSize: 10, maxWaitMs: 0 });
    await state.set(pendingKey('local', 'x'), { leaf: toHex(leafHash(1)), token: '', enqueuedAt: 0, deliverTo: 'batch/local' } satisfies PendingItem);
    while (await batcher.tick());
    expect((await state.get<PendingItem>(pendingKey('local', 'x')))?.proof).toBeDefined();
    expect(await state.get('batch/local')).toBeUndefined();
  });
});
